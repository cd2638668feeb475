/**
 * A native backend's `maxConcurrentCalls` in the Envoy topology: its xDS cluster's circuit breaker
 * (`max_requests`) lets that many calls through to it at once; Envoy refuses the next (503, flag UO,
 * `x-envoy-overloaded`), which mcp.failed_answers shows ext_proc, and the client gets the same
 * GW_UPSTREAM_BUSY tool error the standalone gateway gives. An overflow is the cluster's, not the
 * instance's: outlier detection never ejects the instance for it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { clusterName } from '../../src/xds/clusters.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy, unlimited } from '../harness/topology-envoy.js';
import { MCP_HEADERS, rawInitialize, startExtProc } from '../support/gateway.js';
import { startHoldingServer, type HoldingServer } from '../support/holding-mcp.js';
import { waitFor } from '../support/wait.js';

let holder: HoldingServer;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;
let headers: Record<string, string>;

beforeAll(async () => {
  holder = await startHoldingServer();
  gw = await startExtProc({ backends: [{ name: 'holder', kind: 'mcp', urls: [holder.url], maxConcurrentCalls: 2 }] });
  ({ envoy, endpoint } = await startTopologyEnvoy(gw, unlimited));
  await waitFor(() => gw.core.catalog.current().tools.has('holder_hold'), 'native tools discovered', 15_000);
  await waitFor(async () => (await holderStat('membership_healthy')) === 1, 'Envoy knows the backend cluster', 15_000);
  const { sessionId } = await rawInitialize(endpoint);
  headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
}, 60_000);

afterAll(async () => {
  holder?.release();
  await envoy?.stop();
  await gw?.stop();
  await holder?.close();
});

function holderStat(stat: string): Promise<number> {
  return envoyStat(envoy.adminUrl, `cluster.${clusterName('holder').replace(/\./g, '_')}.${stat}`);
}

/** Call `holder_hold`; the JSON-RPC response (JSON, or the SSE event carrying it). */
async function call(id: number): Promise<any> {
  const res = await fetch(endpoint, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'holder_hold', arguments: {} } }) });
  const text = await res.text();
  if (res.headers.get('content-type')?.startsWith('application/json')) return JSON.parse(text);
  return text
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)))
    .find((m) => m.id === id);
}

describe('a native backend with maxConcurrentCalls behind Envoy', () => {
  it('lets two calls through to it, refuses the next ones at once with GW_UPSTREAM_BUSY, and never ejects the instance for it', { timeout: 60_000 }, async () => {
    const routedBefore = await holderStat('upstream_rq_total');
    const held = [call(1), call(2)];
    await waitFor(() => holder.holding() === 2, 'two calls held by the backend');
    // More refusals than outlier detection's 3 consecutive 5xx: an overflow must not count.
    for (const id of [3, 4, 5, 6]) {
      const refused = await call(id);
      expect(refused).toMatchObject({ id, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_BUSY' } } });
      expect(refused.result.content[0].text).toContain('backend "holder"');
    }
    // Envoy refused them (not the broker), and they never reached the backend.
    expect(await holderStat('upstream_rq_active_overflow')).toBe(4);
    expect(holder.holding()).toBe(2);
    expect(await holderStat('outlier_detection.ejections_enforced_total')).toBe(0);
    expect(await holderStat('membership_healthy')).toBe(1);
    // Counted like other failures on the way to a backend.
    const scrape = (await gw.core.telemetry.metrics.scrape()).body;
    expect(scrape).toMatch(/mcp_gateway_tool_calls_total\{tool="holder_hold",backend="holder",outcome="busy"[^}]*\} 4/);

    holder.release();
    for (const [i, answer] of (await Promise.all(held)).entries()) expect(answer, `call ${i + 1}`).toMatchObject({ result: { content: [{ text: 'released' }] } });
    // The instance takes calls again at once, through Envoy.
    expect(await call(7)).toMatchObject({ id: 7, result: { content: [{ text: 'released' }] } });
    expect(await holderStat('upstream_rq_total')).toBeGreaterThanOrEqual(routedBefore + 3);
  });
});
