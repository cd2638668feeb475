/**
 * Envoy's rate limits in envoy/envoy.yaml, with the real Envoy in front of the gateway process:
 * per client address (before ext_proc), per principal and per tool (from the headers ext_proc
 * sets). The limits are lowered for the test; callers come from different loopback addresses,
 * so each is its own client (and, anonymous, its own principal).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent, fetch } from 'undici';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { ERRORS } from '../../src/errors.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { MCP_HEADERS, ORDER_TOOLS, startExtProc } from '../support/gateway.js';

/** envoy.yaml with the tagged buckets (`# LIMIT:<name>`) and Retry-After values (`# RETRY-AFTER:<name>`) replaced. */
function withLimits(yaml: string, buckets: Record<string, string>, retryAfter: Record<string, number>): string {
  return yaml
    .replace(/token_bucket: \{[^}]*\} # LIMIT:([\w-]+)/g, (m, name: string) => (buckets[name] ? `token_bucket: ${buckets[name]} # LIMIT:${name}` : m))
    .replace(/value: "\d+" \}, append_action: OVERWRITE_IF_EXISTS_OR_ADD \} # RETRY-AFTER:(\w+)/g, (m, name: string) =>
      retryAfter[name] === undefined ? m : `value: "${retryAfter[name]}" }, append_action: OVERWRITE_IF_EXISTS_OR_ADD } # RETRY-AFTER:${name}`,
    );
}

let orders: OrdersApi;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;
const agents: Agent[] = [];

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startExtProc({
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }],
  });
  ({ envoy, endpoint } = await startTopologyEnvoy(gw, (template) =>
    withLimits(
      template,
      {
        client: '{ max_tokens: 8, tokens_per_fill: 8, fill_interval: 60s }',
        principal: '{ max_tokens: 4, tokens_per_fill: 4, fill_interval: 60s }',
        'tool-cancel': '{ max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s }',
      },
      { client: 8, principal: 15, tool: 30 },
    ).replace('value: orders_cancel_order }', 'value: orders_list_orders }'),
  ));
});

afterAll(async () => {
  await Promise.all(agents.map((a) => a.close()));
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
});

/** A caller connecting from its own loopback address. */
function from(address: string) {
  const dispatcher = new Agent({ localAddress: address });
  agents.push(dispatcher);
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(endpoint, { method: 'POST', headers: { ...MCP_HEADERS, ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body), dispatcher });
  return {
    post,
    async initialize(): Promise<string> {
      const res = await post({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'rl', version: '1' } } });
      expect(res.status).toBe(200);
      await res.text();
      return res.headers.get('mcp-session-id')!;
    },
  };
}

function limiterStat(name: string): Promise<number> {
  return envoyStat(envoy.adminUrl, `mcp_ratelimit_${name}.http_local_rate_limit.rate_limited`);
}

/** What every limited caller gets: 429, Retry-After, the limit's name and a JSON-RPC error with the request's id. */
async function expectLimited(res: Awaited<ReturnType<typeof fetch>>, limit: string, retryAfter: number, id: unknown): Promise<void> {
  expect(res.status).toBe(429);
  expect(res.headers.get('retry-after')).toBe(String(retryAfter));
  expect(res.headers.get('x-mcp-gateway-rate-limited')).toBe(limit);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(await res.json()).toEqual({
    jsonrpc: '2.0',
    id,
    error: { code: ERRORS.GW_RATE_LIMITED.rpcCode, message: ERRORS.GW_RATE_LIMITED.message, data: { code: 'GW_RATE_LIMITED', retryAfterSeconds: retryAfter } },
  });
}

describe('rate limits in Envoy', () => {
  it('limits one tool across callers, answering with the call id and Retry-After; other tools go on', async () => {
    const a = from('127.0.0.2');
    const b = from('127.0.0.3');
    const [sa, sb] = [await a.initialize(), await b.initialize()];
    const list = (id: number | string) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'orders_list_orders', arguments: {} } });
    expect((await a.post(list(1), { 'mcp-session-id': sa })).status).toBe(200);
    expect((await b.post(list(2), { 'mcp-session-id': sb })).status).toBe(200);
    await expectLimited(await a.post(list('café-3'), { 'mcp-session-id': sa }), 'tool', 30, 'café-3');
    const other = await a.post({ jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } }, { 'mcp-session-id': sa });
    expect(other.status).toBe(200);
    expect(await limiterStat('tool')).toBeGreaterThanOrEqual(1);
  });

  it('limits each principal on its own: one caller over its limit leaves another untouched', async () => {
    const c = from('127.0.0.4');
    const d = from('127.0.0.5');
    const sc = await c.initialize();
    const tools = (id: number) => ({ jsonrpc: '2.0', id, method: 'tools/list' });
    for (let i = 1; i <= 3; i++) expect((await c.post(tools(i), { 'mcp-session-id': sc })).status).toBe(200);
    await expectLimited(await c.post(tools(9), { 'mcp-session-id': sc }), 'principal', 15, 9);
    const sd = await d.initialize();
    expect((await d.post(tools(1), { 'mcp-session-id': sd })).status).toBe(200);
    expect(await limiterStat('principal')).toBeGreaterThanOrEqual(1);
  });

  it('limits a client address before ext_proc sees the request (id null), even for requests ext_proc would refuse', async () => {
    const e = from('127.0.0.6');
    const before = await envoyStat(envoy.adminUrl, 'http.mcp.ext_proc.streams_started');
    for (let i = 0; i < 8; i++) expect((await e.post('{"not json', { 'x-mcp-gateway-rpc-id': '1}],"evil":[{' })).status).toBe(400);
    await expectLimited(await e.post('{"not json', { 'x-mcp-gateway-rpc-id': '1}],"evil":[{' }), 'client', 8, null);
    const after = await envoyStat(envoy.adminUrl, 'http.mcp.ext_proc.streams_started');
    expect(after - before).toBe(8);
    // Another address is not affected.
    expect((await from('127.0.0.7').post('{"not json')).status).toBe(400);
  });
});
