import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { MCP_HEADERS, ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway, jsonOf } from '../support/gateway.js';

let orders: OrdersApi;
let gw: TestGateway;
let sid: string;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startGateway({
    server: { maxBodyBytes: 4096, allowedOrigins: ['https://app.example.com'] },
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
});

/** After every bad request the gateway must still serve a good one. */
async function stillServes(): Promise<void> {
  const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 'ok', method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } });
  expect(res.status).toBe(200);
  expect((await jsonOf(res)).result.structuredContent.id).toBe('1001');
}

const list = { jsonrpc: '2.0', id: 7, method: 'tools/list' };

describe('HTTP-level bad input', () => {
  it('403 for an Origin that is not allowed; allowed origins get CORS headers', async () => {
    const bad = await rawPost(gw.url, sid, list, { origin: 'https://evil.example.net' });
    expect(bad.status).toBe(403);
    expect((await jsonOf(bad)).error.data.code).toBe('GW_ORIGIN_NOT_ALLOWED');
    const good = await rawPost(gw.url, sid, list, { origin: 'https://app.example.com' });
    expect(good.status).toBe(200);
    expect(good.headers.get('access-control-allow-origin')).toBe('https://app.example.com');
    expect(good.headers.get('access-control-expose-headers')).toContain('mcp-session-id');
    await stillServes();
  });

  it('406 when Accept admits neither JSON nor SSE, and for a GET without SSE', async () => {
    const res = await rawPost(gw.url, sid, list, { accept: 'text/html' });
    expect(res.status).toBe(406);
    const get = await fetch(gw.url, { headers: { accept: 'application/json', 'mcp-session-id': sid } });
    expect(get.status).toBe(406);
    await stillServes();
  });

  it('415 when the body is not declared as JSON', async () => {
    const res = await rawPost(gw.url, sid, JSON.stringify(list), { 'content-type': 'text/plain' });
    expect(res.status).toBe(415);
    await stillServes();
  });

  it('413 for a body over the configured limit', async () => {
    const big = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_create_order', arguments: { item: 'x'.repeat(10_000), quantity: 1 } } };
    const res = await rawPost(gw.url, sid, big);
    expect(res.status).toBe(413);
    expect((await jsonOf(res)).error.data.code).toBe('GW_PAYLOAD_TOO_LARGE');
    expect(orders.calls.get('POST /orders') ?? 0).toBe(0);
    await stillServes();
  });

  it('405 with Allow for other HTTP methods, 404 for other paths', async () => {
    const put = await fetch(gw.url, { method: 'PUT', headers: MCP_HEADERS, body: '{}' });
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('GET, POST, DELETE');
    const other = await fetch(new URL('/other', gw.url));
    expect(other.status).toBe(404);
    await stillServes();
  });

  it('400 for an unsupported MCP-Protocol-Version, keeping the request id', async () => {
    const res = await rawPost(gw.url, sid, list, { 'mcp-protocol-version': '1999-01-01' });
    expect(res.status).toBe(400);
    const body = await jsonOf(res);
    expect(body.id).toBe(7);
    expect(body.error.data.code).toBe('GW_UNSUPPORTED_PROTOCOL_VERSION');
    await stillServes();
  });

  it('400 without a session id, 404 with an unknown one', async () => {
    const none = await rawPost(gw.url, undefined, list);
    expect(none.status).toBe(400);
    expect((await jsonOf(none)).error.data.code).toBe('GW_SESSION_REQUIRED');
    const unknown = await rawPost(gw.url, 'no-such-session', list);
    expect(unknown.status).toBe(404);
    expect((await jsonOf(unknown)).error.code).toBe(-32001);
    await stillServes();
  });
});

describe('JSON-RPC bad input', () => {
  it('-32700 for a body that is not JSON', async () => {
    const res = await rawPost(gw.url, sid, '{"jsonrpc": "2.0", "id": 1, "method": ');
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error.code).toBe(-32700);
    await stillServes();
  });

  it('-32600 for JSON that is not a JSON-RPC message, with the id when there is one', async () => {
    const res = await rawPost(gw.url, sid, { jsonrpc: '1.0', id: 42, method: 'tools/list' });
    expect(res.status).toBe(400);
    const body = await jsonOf(res);
    expect(body.error.code).toBe(-32600);
    expect(body.id).toBe(42);
    const batch = await rawPost(gw.url, sid, [list, list]);
    expect((await jsonOf(batch)).error.code).toBe(-32600);
    await stillServes();
  });

  it('-32601 for an unknown method', async () => {
    const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 3, method: 'resources/teleport' });
    expect(res.status).toBe(200);
    expect(await jsonOf(res)).toMatchObject({ id: 3, error: { code: -32601 } });
    await stillServes();
  });

  it('-32602 for an unknown tool, a bad cursor or bad params', async () => {
    const unknown = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'orders_nope', arguments: {} } });
    expect(await jsonOf(unknown)).toMatchObject({ id: 4, error: { code: -32602, data: { code: 'GW_UNKNOWN_TOOL' } } });
    const cursor = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 5, method: 'tools/list', params: { cursor: '%%%' } });
    expect(await jsonOf(cursor)).toMatchObject({ id: 5, error: { code: -32602 } });
    const args = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'orders_get_order', arguments: [1] } });
    expect(await jsonOf(args)).toMatchObject({ id: 6, error: { code: -32602 } });
    await stillServes();
  });
});
