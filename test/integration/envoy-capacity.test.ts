/**
 * How many exchanges the Envoy topology holds at once. Every request keeps its ext_proc stream
 * until its exchange ends (envoy/envoy.yaml's trailer mode: that end tells the gateway a routed
 * call is over), so an open GET stream or a long tool call holds one ext_proc stream, and one broker
 * connection, for as long as it lasts. Envoy's default circuit breakers allow 1,024 of either per
 * cluster: past them, every new request would be refused. And a thousand connections opened at
 * once overflow Node's default listen backlog (511): the rest time out connecting.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy, unlimited } from '../harness/topology-envoy.js';
import { MCP_HEADERS, ORDER_TOOLS, rawInitialize, startExtProc } from '../support/gateway.js';

let orders: OrdersApi;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;
/** One connection per request, as many clients would have. */
const clients = new Agent({ connections: 4_000, pipelining: 0 });

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startExtProc({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
  // One client sends all of them: the rate limits are lifted (their filters still run).
  ({ envoy, endpoint } = await startTopologyEnvoy(gw, unlimited));
}, 60_000);

afterAll(async () => {
  await clients.close();
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
});

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
