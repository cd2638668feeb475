/**
 * How many exchanges the Envoy topology holds at once. Every request keeps its ext_proc stream
 * until its exchange ends (envoy/envoy.yaml's trailer mode: that end tells the gateway a routed
 * call is over), so an open GET stream or a long tool call holds one ext_proc stream, and one broker
 * connection, for as long as it lasts. Envoy's default circuit breakers allow 1,024 of either per
 * cluster: past them, every new request would be refused. And a thousand connections opened at
 * once overflow Node's default listen backlog (511): the rest time out connecting. A native MCP
 * call goes from Envoy straight to its backend's cluster (from the gateway's xDS server) and holds
 * one of its HTTP/1 connections for as long as it lasts: under Envoy's defaults the 1,025th call
 * open to one backend waits in Envoy until another ends. (The example backends listen with the
 * broker's backlog: with Node's default, the backend dropped connections instead.)
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { clusterName } from '../../src/xds/clusters.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy, unlimited } from '../harness/topology-envoy.js';
import { MCP_HEADERS, ORDER_TOOLS, rawInitialize, startExtProc } from '../support/gateway.js';
import { startHoldingServer, type HoldingServer } from '../support/holding-mcp.js';
import { waitFor } from '../support/wait.js';

let orders: OrdersApi;
/** One instance of a native SDK backend (stateful, answering over SSE): every routed call goes to it. */
let holder: HoldingServer;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;
/** One connection per request, as many clients would have. */
const clients = new Agent({ connections: 4_000, pipelining: 0 });

beforeAll(async () => {
  orders = await startOrdersApi();
  holder = await startHoldingServer();
  gw = await startExtProc({
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'holder', kind: 'mcp', urls: [holder.url] },
    ],
  });
  // One client sends all of them: the rate limits are lifted (their filters still run).
  ({ envoy, endpoint } = await startTopologyEnvoy(gw, unlimited));
  // Native tools are discovered in the background; Envoy learns the backend's cluster over xDS.
  await waitFor(() => gw.core.catalog.current().tools.has('holder_hold'), 'native tools discovered', 15_000);
  await waitFor(async () => (await holderStat('membership_healthy')) === 1, 'Envoy knows the backend cluster', 15_000);
}, 60_000);

afterAll(async () => {
  await clients.close();
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
  await holder?.close();
});

/** One counter or gauge of the native backend's cluster (under its `alt_stat_name`). */
function holderStat(stat: string): Promise<number> {
  return envoyStat(envoy.adminUrl, `cluster.${clusterName('holder').replace(/\./g, '_')}.${stat}`);
}

describe('the Envoy topology under many exchanges at once', () => {
  it('answers 1,200 streamed tool calls open at the same time, past Envoy\'s default limit of 1,024 per cluster', { timeout: 120_000 }, async () => {
    const { sessionId } = await rawInitialize(endpoint);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    // Each call streams four events 500 ms apart: all of them are open together.
    const call = async (id: number): Promise<string> => {
      const res = await fetch(endpoint, {
        method: 'POST',
        headers,
        body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'orders_track_order', arguments: { id: '1001', delayMs: 500 } } }),
        dispatcher: clients,
      });
      const text = await res.text();
      return res.status === 200 && text.includes(`"id":${id},"result"`) ? 'ok' : `${res.status} ${text.slice(0, 200)}`;
    };
    const outcomes = await Promise.all(Array.from({ length: 1_200 }, (_, i) => call(1_000 + i)));
    const failed = outcomes.filter((o) => o !== 'ok');
    // What Envoy refused, for the failure message: its circuit breakers, or connections the broker did not accept in time.
    const stats: string[] = [];
    for (const c of ['extproc', 'broker']) for (const st of ['upstream_cx_overflow', 'upstream_rq_pending_overflow', 'upstream_cx_connect_timeout', 'upstream_rq_retry_overflow']) stats.push(`${c}.${st}=${await envoyStat(envoy.adminUrl, `cluster.${c}.${st}`)}`);
    expect(failed.length, `${failed.slice(0, 3).join(' | ')}; ${stats.join(' ')}`).toBe(0);
  });

  it('answers 1,200 streamed native tool calls open at the same time to one backend, past Envoy\'s default limit of 1,024 per backend cluster', { timeout: 120_000 }, async () => {
    const before = await holderStat('upstream_rq_total');
    const { sessionId } = await rawInitialize(endpoint);
    const headers = { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' };
    let settled = 0;
    // Each call streams a progress notification, then waits at the backend until all are open;
    // they share the one backend session the gateway opens for this session.
    const call = async (id: number): Promise<string> => {
      try {
        const res = await fetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'holder_hold', arguments: {}, _meta: { progressToken: id } } }),
          dispatcher: clients,
        });
        const text = await res.text();
        const messages = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
        const progressed = messages.some((m) => m.method === 'notifications/progress' && m.params.progressToken === id);
        const answer = messages.find((m) => m.id === id);
        return res.status === 200 && progressed && answer?.result?.content?.[0]?.text === 'released' ? 'ok' : `${res.status} ${text.slice(0, 300)}`;
      } finally {
        settled++;
      }
    };
    const calls = Array.from({ length: 1_200 }, (_, i) => call(1_000 + i));
    // Released once every call waits at the backend or has ended (refused). Or once Envoy's
    // circuit breaker held calls back (queued for a connection another call must free): they
    // cannot all be open together, and waiting on would only wait out their budget.
    const overflowed = async (): Promise<boolean> => (await holderStat('upstream_cx_overflow')) + (await holderStat('upstream_rq_pending_overflow')) > 0;
    let held = 0;
    let queued = 0;
    try {
      await waitFor(
        async () => holder.holding() + settled >= 1_200 || ((await overflowed()) && holder.holding() + settled + (await holderStat('upstream_rq_pending_active')) >= 1_200),
        'every call held by the backend, queued by Envoy, or ended',
        60_000,
        100,
      );
    } finally {
      held = holder.holding();
      queued = await holderStat('upstream_rq_pending_active');
      holder.release();
    }
    const outcomes = await Promise.all(calls);
    const failed = outcomes.filter((o) => o !== 'ok');
    // What held calls back, for the failure message: the backend cluster's circuit breakers, its retries, or its connections.
    const stats: string[] = [];
    for (const st of ['upstream_cx_overflow', 'upstream_rq_pending_overflow', 'upstream_rq_retry_overflow', 'upstream_cx_connect_timeout']) stats.push(`${st}=${await holderStat(st)}`);
    const why = `${held} held at once, ${queued} queued by Envoy, ${failed.length} failed (${failed.slice(0, 2).join(' | ')}); mcp_backend.holder: ${stats.join(' ')}`;
    expect(held, why).toBe(1_200);
    expect(failed.length, why).toBe(0);
    // They went from Envoy straight to the backend, not through the broker.
    expect(await holderStat('upstream_rq_total')).toBeGreaterThanOrEqual(before + 1_200);
  });

  it('closes a connection that trickles its request headers, answering 408: slow clients cannot hold the listener', { timeout: 30_000 }, async () => {
    const { hostname, port } = new URL(endpoint);
    const socket = connect(Number(port), hostname);
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    // The request line and one header, then nothing more: the headers never end.
    socket.write('POST /mcp HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    let answer = '';
    socket.on('data', (chunk: Buffer) => (answer += chunk.toString('latin1')));
    await new Promise<void>((resolve) => socket.once('close', () => resolve()));
    expect(answer.split('\r\n')[0]).toBe('HTTP/1.1 408 Request Timeout');
  });
});
