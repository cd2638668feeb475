/**
 * Clients that hold connections without finishing a request (slowloris), bodies far over the
 * limit, and messages nested deep enough to overflow recursive code: each gets a clear answer or
 * a closed connection, and the gateway keeps serving everyone else.
 */
import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { jsonOf, MCP_HEADERS, ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

let orders: OrdersApi;
let gw: TestGateway;
let sid: string;
let port: number;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startGateway({
    server: { headersTimeoutMs: 500, requestTimeoutMs: 1_000, keepAliveIntervalMs: 200, maxBodyBytes: 65_536 },
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
  port = Number(new URL(gw.url).port);
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
});

async function stillServes(): Promise<void> {
  const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 'ok', method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } });
  expect((await jsonOf(res)).result.structuredContent.id).toBe('1001');
}

/** A raw connection that records when the server closes it and what it answered. */
function rawSocket(): Promise<{ socket: Socket; closed: () => boolean; received: () => string }> {
  return new Promise((resolve, reject) => {
    let closed = false;
    let received = '';
    const socket = connect(port, '127.0.0.1', () => resolve({ socket, closed: () => closed, received: () => received }));
    socket.on('data', (d) => (received += d));
    socket.on('close', () => (closed = true));
    socket.on('error', () => undefined);
    socket.once('error', reject);
  });
}

describe('slow and idle clients', () => {
  it('closes a connection that never sends a request', async () => {
    const c = await rawSocket();
    await waitFor(c.closed, 'idle connection closed', 10_000);
    await stillServes();
  });

  it('closes a connection that sends a header line now and then but never ends its headers', async () => {
    const c = await rawSocket();
    c.socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\n`);
    const drip = setInterval(() => c.socket.writable && c.socket.write(`x-drip-${Date.now()}: 1\r\n`), 100);
    try {
      await waitFor(c.closed, 'header drip closed', 10_000);
      expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
    } finally {
      clearInterval(drip);
    }
    await stillServes();
  });

  it('closes a connection that sends its body a byte at a time', async () => {
    const c = await rawSocket();
    c.socket.write(`POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\ncontent-type: application/json\r\naccept: application/json\r\nmcp-session-id: ${sid}\r\ncontent-length: 1000\r\n\r\n{`);
    const drip = setInterval(() => c.socket.writable && c.socket.write(' '), 100);
    try {
      await waitFor(c.closed, 'body drip closed', 10_000);
    } finally {
      clearInterval(drip);
    }
    await stillServes();
  });

  it('keeps an SSE stream open long past the request timeout once its headers are in', async () => {
    const ac = new AbortController();
    const res = await fetch(gw.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sid }, signal: ac.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const started = Date.now();
    let keepAlives = 0;
    // Three times the request timeout: the stream still delivers keep-alives.
    while (Date.now() - started < 3_000) {
      const { value, done } = await reader.read();
      expect(done).toBe(false);
      if (new TextDecoder().decode(value).includes('keep-alive')) keepAlives++;
    }
    expect(keepAlives).toBeGreaterThan(5);
    ac.abort();
  });
});

describe('oversized and deeply nested input', () => {
  it('answers a 10 MB body from fetch with the 413, never a broken pipe', async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_create_order', arguments: { item: 'x'.repeat(10 * 1024 * 1024), quantity: 1 } } });
    for (let i = 0; i < 3; i++) {
      const res = await rawPost(gw.url, sid, big);
      expect(res.status).toBe(413);
      expect((await jsonOf(res)).error.data.code).toBe('GW_PAYLOAD_TOO_LARGE');
    }
    await stillServes();
  });

  it('refuses nesting deeper than the limit with a clear 400 before parsing, whatever the depth', async () => {
    for (const depth of [65, 1_000, 30_000]) {
      const args = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      const body = `{"jsonrpc":"2.0","id":5,"method":"tools/call","params":{"name":"orders_get_order","arguments":{"id":"1","x":${args}}}}`;
      const res = await rawPost(gw.url, sid, body);
      expect(res.status, String(depth)).toBe(400);
      expect((await jsonOf(res)).error).toMatchObject({ code: -32600, data: { code: 'GW_NESTING_TOO_DEEP' } });
    }
    // Brackets inside strings are text, not nesting.
    const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 6, method: 'tools/call', params: { name: 'orders_create_order', arguments: { item: '['.repeat(500), quantity: 1 } } });
    expect((await jsonOf(res)).result.isError).toBeFalsy();
    await stillServes();
  });
});

describe('many sessions, streams and large client descriptions per caller', () => {
  let own: TestGateway;
  beforeAll(async () => {
    own = await startGateway({ sessions: { maxPerPrincipal: 3, maxStreamsPerSession: 2, maxClientInfoBytes: 2_048 }, backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
  });
  afterAll(async () => {
    await own?.stop();
  });

  const init = (clientInfo: unknown = { name: 'x', version: '1' }) =>
    rawPost(own.url, undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo } });

  it('refuses a clientInfo larger than the limit and keeps nothing of it', async () => {
    const huge = { name: 'x', version: '1', description: 'd'.repeat(900_000) };
    const before = await own.core.sessions.size();
    for (let i = 0; i < 20; i++) {
      const res = await init(huge);
      expect(res.headers.get('mcp-session-id')).toBeNull();
      expect((await jsonOf(res)).error).toMatchObject({ code: -32602, message: expect.stringContaining('the limit is 2048') });
    }
    // Before the limit each of these became a session holding 900 KB for its whole life.
    expect(await own.core.sessions.size()).toBe(before);
  });

  it('caps the sessions one caller holds, and frees a place when one ends', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await init();
      expect(res.status).toBe(200);
      ids.push(res.headers.get('mcp-session-id')!);
    }
    const fourth = await init();
    expect(fourth.status).toBe(429);
    expect((await jsonOf(fourth)).error.data.code).toBe('GW_TOO_MANY_SESSIONS');
    expect((await fetch(own.url, { method: 'DELETE', headers: { 'mcp-session-id': ids[0]! } })).status).toBe(204);
    expect((await init()).status).toBe(200);
    expect((await init()).status).toBe(429);
    // A session that leaves the store behind this instance's back (deleted through another
    // instance, evicted) frees its place too.
    await own.core.sessions.delete(ids[1]!);
    expect((await init()).status).toBe(200);
  });

  it('caps the GET streams one session holds open', async () => {
    // This caller is at its session limit after the test above: another gateway, same stream limit.
    const other = await startGateway({ sessions: { maxStreamsPerSession: 2 }, backends: [] });
    try {
      const { sessionId } = await rawInitialize(other.url);
      const open = () => fetch(other.url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId } });
      const a = await open();
      const b = await open();
      expect([a.status, b.status]).toEqual([200, 200]);
      const c = await open();
      expect(c.status).toBe(429);
      expect((await jsonOf(c)).error.data.code).toBe('GW_TOO_MANY_STREAMS');
      await a.body!.cancel();
      await waitFor(async () => {
        const d = await open();
        if (d.status === 200) await d.body!.cancel();
        return d.status === 200;
      }, 'a place freed when a stream closed');
      await b.body!.cancel();
    } finally {
      await other.stop();
    }
  });
});
