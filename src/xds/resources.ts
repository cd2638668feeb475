/**
 * {@link XdsSnapshot} → Envoy `Cluster` and `ClusterLoadAssignment` resources, encoded once per
 * snapshot into `google.protobuf.Any` so every stream sends the same bytes.
 */
import type { XdsCluster, XdsSnapshot } from './clusters.js';
import { resourceTypes, TYPE_URL } from './protos.js';

/** `google.protobuf.Any` as gRPC serialises it. */
export interface AnyResource {
  readonly type_url: string;
  readonly value: Buffer;
}

/** Encoded resources by type URL, then by resource name (in name order). */
export type EncodedSnapshot = ReadonlyMap<string, ReadonlyMap<string, AnyResource>>;

/**
 * The circuit breakers of every backend cluster: those envoy/envoy.yaml gives the gateway's own
 * clusters (`&gateway_capacity`). A tool call holds its HTTP/1 connection to the backend for as
 * long as it lasts (a long or streamed call: seconds, minutes), so under Envoy's defaults (1,024
 * connections, pending and active requests per cluster) the 1,025th call open to one backend waits
 * in Envoy for another to end, up to its whole time budget, and past 1,024 waiting ones calls are
 * refused (503 UO). A backend's own cap (`maxConcurrentCalls`) lowers `max_requests` alone
 * ({@link capacityOf}). Retries (at most two per native call, envoy.yaml's backend routes) get a
 * budget, a fifth of the open requests and at least 10, instead of Envoy's default of 3 at once per
 * cluster, which fails the retries of a burst of failed connections.
 */
const BACKEND_CAPACITY = {
  priority: 'DEFAULT',
  max_connections: { value: 100_000 },
  max_pending_requests: { value: 100_000 },
  max_requests: { value: 100_000 },
  retry_budget: { budget_percent: { value: 20 }, min_retry_concurrency: { value: 10 } },
};

/**
 * The circuit breakers of a backend's cluster. With a cap, `max_requests` is the cap: Envoy
 * refuses a call past it at once (503, flag UO, `x-envoy-overloaded`), which ext_proc answers as
 * `GW_UPSTREAM_BUSY` (src/upstream/direct-failures.ts); Envoy neither retries nor counts it for
 * outlier detection (a cluster-wide refusal, not the instance's failure). `max_pending_requests`
 * stays high, not 0: an HTTP/1 call that finds no idle connection waits as pending while one is
 * opened (every call does, on a cold cluster), and the `max_requests` check comes when it is
 * attached to that connection; with 0 pending Envoy would refuse any call that needs a new
 * connection, even below the cap. So a call past the cap is refused once a connection is open
 * for it (about a connect's time, within `connect_timeout`), never queued behind the open ones.
 */
function capacityOf(c: XdsCluster): Record<string, unknown> {
  return { thresholds: [c.maxRequests === undefined ? BACKEND_CAPACITY : { ...BACKEND_CAPACITY, max_requests: { value: c.maxRequests } }] };
}

/** The Envoy cluster for one backend; its endpoints come from EDS over the same ADS stream. */
export function clusterMessage(c: XdsCluster): Record<string, unknown> {
  return {
    name: c.name,
    // Envoy's stat tag extraction takes a cluster name up to its first dot; this keeps one token.
    alt_stat_name: c.name.replace(/\./g, '_'),
    type: 'EDS',
    eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
    lb_policy: 'ROUND_ROBIN',
    // Backends sit on the same network as Envoy; like the static clusters in envoy/envoy.yaml.
    connect_timeout: { seconds: 1 },
    // The circuit breaker. MCP reports tool failures inside 200 answers (isError, JSON-RPC
    // errors), so a 5xx, a 502/503/504 or a failed connect (counted as 5xx) means the instance
    // itself is broken: 3 in a row is enough, and gateway failures are enforced (Envoy's default
    // is 0 %). A 1 s sweep takes the instance out well within the gateway's 2 s target. 10 s of
    // ejection, growing with each repeat ejection, matches the standalone pool's default
    // cooldown (`upstream.cooldownMs`); a lasting fault is Consul's health checks' to remove.
    // 100 % lets every instance be ejected; Envoy's panic threshold (50 %) then still spreads
    // calls over all of them, so a sick backend is deprioritised, never cut off by this alone.
    outlier_detection: {
      consecutive_5xx: { value: 3 },
      consecutive_gateway_failure: { value: 3 },
      enforcing_consecutive_gateway_failure: { value: 100 },
      interval: { seconds: 1 },
      base_ejection_time: { seconds: 10 },
      max_ejection_percent: { value: 100 },
    },
    // Not Envoy's default of 1,024 calls open at once (BACKEND_CAPACITY), or the backend's own cap.
    circuit_breakers: capacityOf(c),
  };
}

/** The endpoints of one cluster: one locality, all instances equal. */
export function loadAssignmentMessage(c: XdsCluster): Record<string, unknown> {
  const lb_endpoints = c.endpoints.map((e) => ({ endpoint: { address: { socket_address: { address: e.address, port_value: e.port } } } }));
  return { cluster_name: c.name, endpoints: lb_endpoints.length > 0 ? [{ lb_endpoints }] : [] };
}

/** Encode every resource of a snapshot once; streams pick from the result. */
export function encodeSnapshot(snapshot: XdsSnapshot): EncodedSnapshot {
  const { cluster, endpoints } = resourceTypes();
  const pack = (type: typeof cluster, typeUrl: string, message: Record<string, unknown>): AnyResource => ({
    type_url: typeUrl,
    value: Buffer.from(type.encode(type.fromObject(message)).finish()),
  });
  return new Map([
    [TYPE_URL.cluster, new Map(snapshot.clusters.map((c) => [c.name, pack(cluster, TYPE_URL.cluster, clusterMessage(c))]))],
    [TYPE_URL.endpoints, new Map(snapshot.clusters.map((c) => [c.name, pack(endpoints, TYPE_URL.endpoints, loadAssignmentMessage(c))]))],
  ]);
}

/** Decode an Any this module produced back into a plain object (enum names, durations as strings): for tests and debugging. */
export function decodeResource(any: AnyResource): Record<string, any> {
  const { cluster, endpoints } = resourceTypes();
  const type = any.type_url === TYPE_URL.cluster ? cluster : any.type_url === TYPE_URL.endpoints ? endpoints : undefined;
  if (!type) throw new Error(`xds: no decoder for ${any.type_url}`);
  return type.toObject(type.decode(any.value), { enums: String, longs: String });
}
