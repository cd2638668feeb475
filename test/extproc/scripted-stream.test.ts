/**
 * Plays Envoy: opens `Process` streams to the real ext_proc gRPC server and sends the messages
 * Envoy sends in the configured mode (request headers, then the buffered body), then checks the
 * answers. The core behind it is the real one (createGateway), with a REST backend.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ClientDuplexStream } from '@grpc/grpc-js';
import { body, chunk, extProcClient, headers, INITIALIZE, openStream as open, pipelinedHeaders, setHeaders, type ExtProcClient } from '../support/extproc-stream.js';
import { pino } from 'pino';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { ExtProcServer } from '../../src/extproc/server.js';
import { ORDER_TOOLS, rawInitialize, startExtProc } from '../support/gateway.js';

let orders: OrdersApi;
let gw: RunningExtProc;
let client: ExtProcClient;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startExtProc({
    server: { allowedOrigins: ['http://localhost:*'] },
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }],
  });
  client = extProcClient(gw.extprocPort);
});

afterAll(async () => {
  client?.close();
  await gw?.stop();
  await orders?.close();
});

const openStream = () => open(client);

describe('ext_proc stream, phase by phase', () => {
  it('answers a body that is not JSON with an immediate 400 carrying a JSON-RPC parse error', async () => {
    const s = openStream();
    const first = await s.send(headers('POST'));
    expect(first.response).toBe('request_headers');
    expect(first.request_headers.response.status ?? 'CONTINUE').toBe('CONTINUE');
    const second = await s.send(body('{"jsonrpc": "2.0", '));
    expect(second.response).toBe('immediate_response');
    const im = second.immediate_response;
    expect(im.status.code).toBe('BadRequest');
    expect(setHeaders(im.headers)['content-type']).toBe('application/json');
    const answer = JSON.parse(im.body.toString());
    expect(answer).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32700 } });
    s.close();
  });

  it('routes a valid initialize to the broker, removes a client-supplied x-mcp-gateway-subject and clears the route cache', async () => {
    const s = openStream();
    const first = await s.send(headers('POST', { 'x-mcp-gateway-subject': 'admin', 'x-mcp-gateway-route': 'evil' }));
    expect(first.request_headers.response.header_mutation.remove_headers).toEqual(
      expect.arrayContaining(['x-mcp-gateway-subject', 'x-mcp-gateway-route']),
    );
    const second = await s.send(body(INITIALIZE));
    expect(second.response).toBe('request_body');
    const common = second.request_body.response;
    expect(common.clear_route_cache).toBe(true);
    const set = setHeaders(common.header_mutation);
    expect(set['x-mcp-gateway-route']).toBe('broker');
    // The ticket of the decision, so the broker does not admit the request again.
    expect(set['x-mcp-gateway-admitted']).toMatch(/^[\w-]{22}$/);
    expect(common.header_mutation.remove_headers).toEqual(['x-mcp-gateway-subject']);
    s.close();
  });

  it('puts the CORS headers the broker would add on an immediate answer to an allowed origin', async () => {
    const s = openStream();
    await s.send(headers('POST', { origin: 'http://localhost:3000' }));
    const answer = await s.send(body('not json'));
    const set = setHeaders(answer.immediate_response.headers);
    expect(set['access-control-allow-origin']).toBe('http://localhost:3000');
    expect(set['access-control-expose-headers']).toContain('mcp-session-id');
    s.close();
  });

  it('decides a GET on the headers alone (no session: immediate 400 with the JSON-RPC error)', async () => {
    const s = openStream();
    const only = await s.send(headers('GET', { accept: 'text/event-stream' }, true));
    expect(only.response).toBe('immediate_response');
    expect(only.immediate_response.status.code).toBe('BadRequest');
    expect(JSON.parse(only.immediate_response.body.toString()).error.code).toBeTypeOf('number');
    s.close();
  });

  it('sees sessions the broker created: ping is answered by Envoy, tools/call goes to the broker', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const ping = openStream();
    await ping.send(headers('POST', { 'mcp-session-id': sessionId }));
    const pong = await ping.send(body({ jsonrpc: '2.0', id: 7, method: 'ping' }));
    expect(pong.immediate_response.status.code).toBe('OK');
    expect(JSON.parse(pong.immediate_response.body.toString())).toEqual({ jsonrpc: '2.0', id: 7, result: {} });
    ping.close();

    const call = openStream();
    await call.send(headers('POST', { 'mcp-session-id': sessionId }));
    const routed = await call.send(body({ jsonrpc: '2.0', id: 8, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } }));
    expect(setHeaders(routed.request_body.response.header_mutation)).toMatchObject({ 'x-mcp-gateway-route': 'broker' });
    call.close();

    const unknown = openStream();
    await unknown.send(headers('POST', { 'mcp-session-id': 'not-a-session' }));
    const refused = await unknown.send(body({ jsonrpc: '2.0', id: 9, method: 'tools/list' }));
    expect(refused.immediate_response.status.code).toBe('NotFound');
    expect(JSON.parse(refused.immediate_response.body.toString())).toMatchObject({ id: 9 });
    unknown.close();
  });

  const getPath = (path: string) => ({
    request_headers: {
      headers: { headers: [{ key: ':method', raw_value: Buffer.from('GET') }, { key: ':path', raw_value: Buffer.from(path) }, { key: 'x-mcp-gateway-subject', raw_value: Buffer.from('x') }] },
      end_of_stream: true,
    },
  });

  it('passes only the protected-resource metadata to the broker without admission', async () => {
    const s = openStream();
    const only = await s.send(getPath('/.well-known/oauth-protected-resource/mcp'));
    expect(setHeaders(only.request_headers.response.header_mutation)).toEqual({ 'x-mcp-gateway-route': 'broker' });
    expect(only.request_headers.response.header_mutation.remove_headers).toEqual(['x-mcp-gateway-subject']);
    s.close();
  });

  it('answers 404 itself for health, metrics and any other path: they never reach the broker through Envoy', async () => {
    for (const path of ['/healthz', '/metrics', '/admin', '/mcp/../metrics', '/.well-known/oauth-protected-resourcex']) {
      const s = openStream();
      const answer = await s.send(getPath(path));
      expect(answer.immediate_response?.status.code, path).toBe('NotFound');
      s.close();
    }
  });

  it('refuses a streamed body once it grows past server.maxBodyBytes, without gathering the rest', async () => {
    const s = openStream();
    s.push(pipelinedHeaders('POST', {}));
    // 1 MiB is the default limit: two 600 KiB chunks pass it with the second.
    s.push(chunk('x'.repeat(600 * 1024), false));
    s.push(chunk('x'.repeat(600 * 1024), false));
    const answer = await s.next();
    expect(answer.immediate_response.status.code).toBe('PayloadTooLarge');
    expect(JSON.parse(answer.immediate_response.body.toString())).toMatchObject({ error: { data: { code: 'GW_PAYLOAD_TOO_LARGE' } } });
    s.close();
  });

  it('refuses a Host (:authority) that is not allowed, and a malformed one, before anything else', async () => {
    for (const [authority, status, code] of [['evil.example.com', 'Forbidden', 'GW_HOST_NOT_ALLOWED'], ['bad host', 'BadRequest', 'GW_HOST_INVALID']] as const) {
      const s = openStream();
      // Refused on the headers: the body is never read (Envoy sends none after an immediate answer).
      const answer = await s.send(headers('POST', { ':authority': authority }));
      expect(answer.immediate_response.status.code, authority).toBe(status);
      expect(JSON.parse(answer.immediate_response.body.toString()).error.data.code).toBe(code);
      s.close();
    }
  });
});

describe('ext_proc server failures', () => {
  it('answers an immediate 500 (never continue) when admission throws', async () => {
    const failing = new ExtProcServer({
      decide: () => Promise.reject(new Error('boom')),
      mcpPath: '/mcp',
      logger: pino({ level: 'silent' }),
      shutdownGraceMs: 100,
    });
    const port = await failing.start();
    const c = extProcClient(port);
    try {
      const call = (c as any).Process() as ClientDuplexStream<unknown, any>;
      const answer = new Promise<any>((r) => call.once('data', r));
      call.write(headers('GET', { accept: 'text/event-stream' }, true));
      const res = await answer;
      expect(res.immediate_response.status.code).toBe('InternalServerError');
      expect(JSON.parse(res.immediate_response.body.toString())).toMatchObject({ error: { code: -32603 } });
      call.end();
    } finally {
      c.close();
      await failing.stop();
    }
  });
});
