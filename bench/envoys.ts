/**
 * The Envoys bench/envoy.ts compares: a plain one (listener → static clusters, router only),
 * which is what Envoy itself costs, the same with a do-nothing ext_proc filter in front of its
 * router, and the real topology (envoy/envoy.yaml) in front of the gateway process. All run through
 * the test harness's `startEnvoy` (one worker thread, as in the integration tests), so they differ
 * only in their configuration.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { ADMIN_PORT_PLACEHOLDER, httpListener, startEnvoy, staticCluster, type EnvoyHandle } from '../test/harness/envoy.js';
import { freePort } from '../test/harness/ports.js';
import { startTopologyEnvoy as startHarnessTopology, unlimited } from '../test/harness/topology-envoy.js';

/** The port of a `host:port` the bench children report. */
const portOf = (hostPort: string): number => Number(new URL(`http://${hostPort}`).port);

/** A running Envoy and the MCP endpoint its listener serves. */
export interface BenchEnvoy {
  readonly envoy: EnvoyHandle;
  readonly endpoint: string;
}

/**
 * envoy/envoy.yaml's ext_proc filter and cluster, pointed at `port`: for the do-nothing ext_proc
 * variant, so it pays the topology's round trips. As envoy.yaml does: the whole body (buffer
 * filter) streamed right behind the headers without waiting for their answer (1 round trip, 2
 * messages), no response headers (envoy.yaml shows ext_proc only a routed call's failing answer),
 * and the stream kept until the exchange ends (trailers mode). The do-nothing service answers each
 * message as it comes, which is the floor of that mode.
 *
 * BENCH_NOOP_ROUND_TRIPS=1 sends the do-nothing service the buffered body only (no request or
 * response headers): the floor of a design with one message per call, for comparison.
 */
function extProcParts(port: number): { runtime: string; filter: string; cluster: string } {
  const one = process.env.BENCH_NOOP_ROUND_TRIPS === '1';
  const headerMode = one ? 'SKIP' : 'SEND';
  const bodyMode = one ? 'BUFFERED' : 'STREAMED';
  // As envoy/envoy.yaml: ext_proc streams end with a clean gRPC close, not a reset.
  const runtime = `
layered_runtime:
  layers:
    - name: static
      static_layer:
        envoy.reloadable_features.ext_proc_graceful_grpc_close: true`;
  const filter = `
                  - name: mcp.whole_body
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.buffer.v3.Buffer
                      max_request_bytes: 1048576
                  - name: envoy.filters.http.ext_proc
                    typed_config:
                      "@type": type.googleapis.com/envoy.extensions.filters.http.ext_proc.v3.ExternalProcessor
                      grpc_service:
                        envoy_grpc: { cluster_name: extproc }
                        timeout: 5s
                        # As envoy.yaml: a stream kept for a retry costs Envoy the same here.
                        retry_policy:
                          retry_on: connect-failure,refused-stream,reset-before-request
                          num_retries: 2
                          retry_host_predicate:
                            - name: envoy.retry_host_predicates.previous_hosts
                              typed_config:
                                "@type": type.googleapis.com/envoy.extensions.retry.host.previous_hosts.v3.PreviousHostsPredicate
                          host_selection_retry_max_attempts: 5
                      failure_mode_allow: false
                      message_timeout: 2s
                      send_body_without_waiting_for_header_response: ${!one}
                      processing_mode: { request_header_mode: ${headerMode}, request_body_mode: ${bodyMode}, request_trailer_mode: SKIP, response_header_mode: SKIP, response_body_mode: NONE, response_trailer_mode: ${headerMode} }
                      request_attributes: [source.address]`;
  const cluster = `
    - name: extproc
      type: STATIC
      connect_timeout: 1s
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config: { http2_protocol_options: {} }
      load_assignment:
        cluster_name: extproc
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${port} } } } }] }]`;
  return { runtime, filter, cluster };
}

/** A backend a plain Envoy routes to besides its main one: requests whose path starts with `prefix` go to cluster `name`. */
export interface ExtraRoute {
  readonly name: string;
  readonly prefix: string;
  readonly url: string;
}

/** How a plain Envoy is set up besides its main backend. */
export interface PlainOptions {
  /** `host:port` of an ext_proc service: the topology's ext_proc filter calls it in front of the router. */
  readonly extproc?: string;
  /** More backends on the same listener, so one Envoy process (one CPU column) serves several scenarios. */
  readonly also?: readonly ExtraRoute[];
}

/**
 * The baseline: the same listener settings as envoy/envoy.yaml (HTTP/1.1 or 2, remote address,
 * no route timeout since MCP answers may stream) but no ext_proc, no stateful session, one
 * static cluster per backend. With `extprocPort`, the topology's ext_proc filter in front of the router.
 */
function plainConfig(listener: number, backend: URL, also: readonly ExtraRoute[], extprocPort?: number): string {
  const ext = extprocPort === undefined ? { runtime: '', filter: '', cluster: '' } : extProcParts(extprocPort);
  const route = (prefix: string, cluster: string): string => `{ match: { prefix: "${prefix}" }, route: { cluster: ${cluster}, timeout: 0s } }`;
  // The main backend's catch-all comes last: Envoy takes the first route that matches.
  const routes = [...also.map((a) => route(a.prefix, a.name)), route('/', 'backend')];
  const clusters = [['backend', backend] as const, ...also.map((a) => [a.name, new URL(a.url)] as const)].map(([name, u]) => staticCluster(name, u.hostname, Number(u.port))).join('');
  return `${ext.runtime}
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${ADMIN_PORT_PLACEHOLDER} } }
static_resources:
  listeners:
${httpListener({ port: listener, routes, filters: ext.filter })}  clusters:
${clusters}${ext.cluster}`;
}

/** Plain Envoy in front of the MCP backend at `backendUrl` (its endpoint keeps that URL's path); see {@link PlainOptions}. */
export async function startPlainEnvoy(backendUrl: string, opts: PlainOptions = {}): Promise<BenchEnvoy> {
  const listener = await freePort();
  const backend = new URL(backendUrl);
  const extprocPort = opts.extproc === undefined ? undefined : portOf(opts.extproc);
  const envoy = await startEnvoy({ configYaml: plainConfig(listener, backend, opts.also ?? [], extprocPort) });
  return { envoy, endpoint: `http://127.0.0.1:${listener}${backend.pathname}` };
}

/** The real topology: envoy/envoy.yaml (limits lifted, see {@link unlimited}) in front of the gateway process. */
export async function startTopologyEnvoy(gw: Readonly<Record<string, string>>): Promise<BenchEnvoy> {
  const { broker, extproc, xds } = gw;
  if (!broker || !extproc || !xds) throw new Error(`bench envoy: the gateway child did not report broker, extproc and xds: ${JSON.stringify(gw)}`);
  const { envoy, endpoint } = await startHarnessTopology({ brokerUrl: broker, extprocPort: portOf(extproc), xdsPort: portOf(xds) }, unlimited);
  return { envoy, endpoint };
}

/** Poll until `check` holds; the last error (if any) goes into the timeout message. */
export async function until(what: string, check: () => Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      if (await check()) return;
    } catch (err) {
      last = err;
    }
    await sleep(100);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Healthy members of a cluster, from admin `/clusters` (cluster names, unlike stats, are not rewritten by `alt_stat_name`). */
export async function healthyHosts(adminUrl: string, cluster: string): Promise<number> {
  const text = await (await fetch(`${adminUrl}/clusters`)).text();
  return text.split('\n').filter((l) => l.startsWith(`${cluster}::`) && l.endsWith('::health_flags::healthy')).length;
}

/** Admin `/stats` lines (counters, gauges, histogram summaries) that were used and match `regex`. */
export async function stats(adminUrl: string, regex: string): Promise<string[]> {
  const text = await (await fetch(`${adminUrl}/stats?usedonly&filter=${encodeURIComponent(regex)}`)).text();
  return text.split('\n').filter((l) => l.trim() !== '');
}
