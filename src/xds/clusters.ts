/**
 * Which backends Envoy reaches directly, and where: the transport-neutral part of xDS. Nothing
 * here knows Envoy's protobuf types; `resources.ts` turns an {@link XdsSnapshot} into them.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { BackendDescriptor } from '../catalog/model.js';
import { unbracket } from '../net.js';

/** One address Envoy connects to. EDS wants IPs, so hostnames are resolved before this. */
export interface XdsEndpoint {
  readonly address: string;
  readonly port: number;
}

/** One Envoy cluster: a native MCP backend and its instances. */
export interface XdsCluster {
  /** The Envoy cluster name ({@link clusterName} of the backend). */
  readonly name: string;
  readonly backend: string;
  /** Sorted and without duplicates, so equal content encodes to equal bytes. */
  readonly endpoints: readonly XdsEndpoint[];
  /** The backend's `maxConcurrentCalls`: the most calls Envoy keeps open to it at once. Absent: no cap. */
  readonly maxRequests?: number;
}

/** Everything the ADS server serves; sorted by cluster name. */
export interface XdsSnapshot {
  readonly clusters: readonly XdsCluster[];
}

/** A cluster before name resolution: hosts may still be names. */
export interface ClusterTarget {
  readonly name: string;
  readonly backend: string;
  readonly hosts: readonly { readonly host: string; readonly port: number }[];
  readonly maxRequests?: number;
}

/** Resolves a hostname to all its addresses (node:dns `lookup` by default). */
export type ResolveHost = (host: string) => Promise<readonly string[]>;

const CLUSTER_PREFIX = 'mcp_backend.';

/**
 * The Envoy cluster for a backend: what the ext_proc adapter puts in the route header. The prefix
 * keeps it apart from the static clusters (`broker`, `extproc`, `xds`); the backend name follows
 * unchanged, so the name is stable and readable in Envoy's admin pages.
 */
export function clusterName(backendName: string): string {
  return `${CLUSTER_PREFIX}${backendName}`;
}

/**
 * Whether Envoy can route to this backend itself: a native MCP backend whose URLs are all plain
 * `http:` (an Envoy cluster has one transport; TLS upstreams stay with the broker for now).
 */
export function envoyRoutable(backend: BackendDescriptor): boolean {
  return backend.kind === 'mcp' && backend.urls.every((u) => /^http:/i.test(u));
}

/** Backends to clusters, host and port taken from each URL (the path is the router's business). */
export function clusterTargets(backends: readonly BackendDescriptor[]): ClusterTarget[] {
  return backends
    .filter(envoyRoutable)
    .map((b) => ({
      name: clusterName(b.name),
      backend: b.name,
      hosts: b.urls.map((u) => {
        const url = new URL(u);
        return { host: unbracket(url.hostname), port: Number(url.port || 80) };
      }),
      ...(b.maxConcurrentCalls === undefined ? {} : { maxRequests: b.maxConcurrentCalls }),
    }))
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** All addresses of a name, IPv4 and IPv6, as the OS resolver answers. */
export const resolveWithDns: ResolveHost = async (host) => (await dnsLookup(host, { all: true })).map((a) => a.address);

/**
 * Resolve every target's hostnames into endpoints. A name that cannot be resolved is left out
 * with a warning; a backend left with none still gets its cluster (without endpoints), so routing
 * to it fails visibly in Envoy instead of the cluster vanishing.
 */
export async function resolveSnapshot(targets: readonly ClusterTarget[], logger: Logger, resolve: ResolveHost = resolveWithDns): Promise<XdsSnapshot> {
  const clusters = await Promise.all(
    targets.map(async (t) => {
      const found = await Promise.all(
        t.hosts.map(async ({ host, port }) => {
          if (isIP(host)) return [{ address: host, port }];
          try {
            return (await resolve(host)).map((address) => ({ address, port }));
          } catch (err) {
            logger.warn({ backend: t.backend, host, err: (err as Error).message }, 'xds: cannot resolve a backend host; it gets no endpoints from this name');
            return [];
          }
        }),
      );
      return { name: t.name, backend: t.backend, endpoints: uniqueSorted(found.flat()), ...(t.maxRequests === undefined ? {} : { maxRequests: t.maxRequests }) };
    }),
  );
  return { clusters };
}

function uniqueSorted(endpoints: readonly XdsEndpoint[]): XdsEndpoint[] {
  const byKey = new Map(endpoints.map((e) => [`${e.address}|${e.port}`, e]));
  return [...byKey.keys()].sort().map((k) => byKey.get(k)!);
}
