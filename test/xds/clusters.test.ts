/**
 * Backends → Envoy clusters: which backends Envoy routes to, the endpoints it gets (resolved,
 * deduplicated, stable), and the Envoy messages built from them.
 */
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { readEnvoyTemplate } from '../../examples/envoy-config.js';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import { backendSchema } from '../../src/config/schema.js';
import { clusterName, clusterTargets, envoyRoutable, resolveSnapshot } from '../../src/xds/clusters.js';
import { TYPE_URL } from '../../src/xds/protos.js';
import { decodeResource, encodeSnapshot } from '../../src/xds/resources.js';
import { capturingLogger } from '../support/logs.js';

const mcp = (name: string, urls: string[]): BackendDescriptor => backendSchema.parse({ name, kind: 'mcp', urls });
const rest = (name: string, urls: string[]): BackendDescriptor =>
  backendSchema.parse({ name, kind: 'rest', urls, tools: [{ name: 't', inputSchema: { type: 'object' }, http: { method: 'GET', path: '/t' } }] });

describe('clusterName', () => {
  it('is the backend name under a prefix no static cluster uses, the same every time', () => {
    expect(clusterName('notes')).toBe('mcp_backend.notes');
    expect(clusterName('notes')).toBe(clusterName('notes'));
    for (const staticCluster of ['broker', 'extproc', 'xds']) expect(clusterName(staticCluster)).not.toBe(staticCluster);
  });
});

describe('clusterTargets', () => {
  it('keeps only native MCP backends reachable over plain http, sorted by cluster name', () => {
    const backends = [mcp('zeta', ['http://10.0.0.9:3000/mcp']), rest('orders', ['http://10.0.0.5:8000']), mcp('tls', ['https://10.0.0.7/mcp']), mcp('alpha', ['http://10.0.0.1:3000/mcp'])];
    expect(backends.map(envoyRoutable)).toEqual([true, false, false, true]);
    expect(clusterTargets(backends).map((t) => t.name)).toEqual(['mcp_backend.alpha', 'mcp_backend.zeta']);
  });

  it('takes host and port from each URL: default port 80, IPv6 without brackets', () => {
    const [t] = clusterTargets([mcp('docs', ['http://10.0.0.7:3000/mcp', 'http://docs.internal/mcp', 'http://[fd00::7]:3001/mcp'])]);
    expect(t!.hosts).toEqual([
      { host: '10.0.0.7', port: 3000 },
      { host: 'docs.internal', port: 80 },
      { host: 'fd00::7', port: 3001 },
    ]);
  });
});

describe('resolveSnapshot', () => {
  it('resolves hostnames, deduplicates by address and port, and orders endpoints stably', async () => {
    const { logger } = capturingLogger();
    const targets = clusterTargets([mcp('docs', ['http://localhost:3000/mcp', 'http://127.0.0.1:3000/other', 'http://10.0.0.2:3000/mcp', 'http://10.0.0.1:3000/mcp'])]);
    const snapshot = await resolveSnapshot(targets, logger);
    const endpoints = snapshot.clusters[0]!.endpoints;
    expect(endpoints).toContainEqual({ address: '127.0.0.1', port: 3000 });
    expect(endpoints.filter((e) => e.address === '127.0.0.1')).toHaveLength(1);
    expect(endpoints.slice(0, 2)).toEqual([
      { address: '10.0.0.1', port: 3000 },
      { address: '10.0.0.2', port: 3000 },
    ]);
  });

  it('gives a backend whose names do not resolve a cluster without endpoints, and warns naming the host', async () => {
    const { logger, lines } = capturingLogger();
    const snapshot = await resolveSnapshot(clusterTargets([mcp('ghost', ['http://no-such-host.invalid:3000/mcp'])]), logger);
    expect(snapshot.clusters).toEqual([{ name: 'mcp_backend.ghost', backend: 'ghost', endpoints: [] }]);
    expect(lines()).toContainEqual(expect.objectContaining({ level: 40, backend: 'ghost', host: 'no-such-host.invalid' }));
  });
});

describe('Envoy resources', () => {
  const snapshot = { clusters: [{ name: 'mcp_backend.docs', backend: 'docs', endpoints: [{ address: '10.0.0.1', port: 3000 }, { address: 'fd00::7', port: 3001 }] }] };

  it('encodes an EDS cluster over ADS with round robin and outlier detection', () => {
    const cluster = decodeResource(encodeSnapshot(snapshot).get(TYPE_URL.cluster)!.get('mcp_backend.docs')!);
    expect(cluster).toMatchObject({
      name: 'mcp_backend.docs',
      alt_stat_name: 'mcp_backend_docs',
      type: 'EDS',
      eds_cluster_config: { eds_config: { ads: {}, resource_api_version: 'V3' } },
      connect_timeout: { seconds: '1' },
      outlier_detection: { consecutive_5xx: { value: 3 }, consecutive_gateway_failure: { value: 3 }, enforcing_consecutive_gateway_failure: { value: 100 }, max_ejection_percent: { value: 100 } },
    });
  });

  it('lifts Envoy\'s default circuit breakers (1,024 calls open per cluster) as envoy.yaml does for the gateway\'s own clusters, retries on a budget', () => {
    const cluster = decodeResource(encodeSnapshot(snapshot).get(TYPE_URL.cluster)!.get('mcp_backend.docs')!);
    // Decoded, wrappers are `{ value }` and the DEFAULT priority (enum 0) is left out.
    const [thresholds] = unwrap(cluster.circuit_breakers.thresholds) as Array<Record<string, unknown>>;
    expect({ priority: 'DEFAULT', ...thresholds }).toEqual({
      priority: 'DEFAULT',
      max_connections: 100_000,
      max_pending_requests: 100_000,
      max_requests: 100_000,
      // A fifth of the open requests may be retries at once, instead of Envoy's default of 3.
      retry_budget: { budget_percent: 20, min_retry_concurrency: 10 },
    });
    const extproc = parse(readEnvoyTemplate()).static_resources.clusters.find((c: { name: string }) => c.name === 'extproc');
    expect(unwrap(extproc.circuit_breakers.thresholds)).toEqual([{ priority: 'DEFAULT', ...thresholds }]);
  });

  it('caps the calls Envoy keeps open to a backend at its maxConcurrentCalls, and only those: pending calls (waiting for a connection) stay allowed', async () => {
    const { logger } = capturingLogger();
    const capped = await resolveSnapshot(clusterTargets([backendSchema.parse({ name: 'legacy', kind: 'mcp', urls: ['http://10.0.0.3:3000/mcp'], maxConcurrentCalls: 8 })]), logger);
    expect(capped.clusters[0]!.maxRequests).toBe(8);
    const cluster = decodeResource(encodeSnapshot(capped).get(TYPE_URL.cluster)!.get('mcp_backend.legacy')!);
    const [thresholds] = unwrap(cluster.circuit_breakers.thresholds) as Array<Record<string, unknown>>;
    // 0 pending would refuse every call that needs a new HTTP/1 connection, even below the cap.
    expect(thresholds).toEqual({ priority: 'DEFAULT', max_connections: 100_000, max_pending_requests: 100_000, max_requests: 8, retry_budget: { budget_percent: 20, min_retry_concurrency: 10 } });
    // Overflow is not an instance failure: outlier detection stays as it is for every backend.
    expect(cluster.outlier_detection).toEqual(decodeResource(encodeSnapshot(snapshot).get(TYPE_URL.cluster)!.get('mcp_backend.docs')!).outlier_detection);
  });

  it('encodes the endpoints as one locality of socket addresses', () => {
    const assignment = decodeResource(encodeSnapshot(snapshot).get(TYPE_URL.endpoints)!.get('mcp_backend.docs')!);
    expect(assignment.cluster_name).toBe('mcp_backend.docs');
    expect(assignment.endpoints[0].lb_endpoints.map((e: any) => e.endpoint.address.socket_address)).toEqual([
      { address: '10.0.0.1', port_value: 3000 },
      { address: 'fd00::7', port_value: 3001 },
    ]);
  });

  it('produces the same bytes for the same content', () => {
    const a = encodeSnapshot(snapshot).get(TYPE_URL.endpoints)!.get('mcp_backend.docs')!.value;
    const b = encodeSnapshot(structuredClone(snapshot)).get(TYPE_URL.endpoints)!.get('mcp_backend.docs')!.value;
    expect(a.equals(b)).toBe(true);
  });
});

/** Protobuf wrapper messages (`{ value: 20 }`) as the plain values Envoy's YAML may also write. */
function unwrap(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(unwrap);
  if (typeof v !== 'object' || v === null) return v;
  const entries = Object.entries(v);
  if (entries.length === 1 && entries[0]![0] === 'value') return entries[0]![1];
  return Object.fromEntries(entries.map(([k, x]) => [k, unwrap(x)]));
}
