/**
 * Holes an attacker would try first: a REST path template stepped out of (policy bypass), and a
 * web page reaching the gateway through DNS rebinding (Host not checked).
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { jsonOf, MCP_HEADERS, rawHttp, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';

/** A REST backend that records every path it is asked for. */
async function pathRecorder() {
  const paths: string[] = [];
  const server = createServer((req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url }));
  });
  return { url: await listen(server), paths, close: () => closeServer(server) };
}

let backend: Awaited<ReturnType<typeof pathRecorder>>;
let gw: TestGateway;
let sid: string;

beforeAll(async () => {
  backend = await pathRecorder();
  gw = await startGateway({
    backends: [
      {
        name: 'items',
        kind: 'rest',
        urls: [`${backend.url}/api`],
        tools: [
          { name: 'details', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, http: { path: '/items/{id}/details' } },
          { name: 'by_name', inputSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }, http: { path: '/{name}' } },
        ],
      },
    ],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
});

afterAll(async () => {
  await gw?.stop();
  await backend?.close();
});

const call = (name: string, args: Record<string, unknown>) => rawPost(gw.url, sid, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } }).then(jsonOf);

describe('REST path templates', () => {
  it('refuses path arguments that would step out of the template, and calls no backend', async () => {
    for (const [tool, arg] of [['items_details', 'id'], ['items_by_name', 'name']] as const) {
      for (const value of ['..', '.', '']) {
        const before = backend.paths.length;
        const answer = await call(tool, { [arg]: value });
        expect(answer.result.isError, `${tool} ${JSON.stringify(value)}`).toBe(true);
        expect(answer.result.content[0].text).toContain(`argument "${arg}" fills a URL path segment`);
        expect(backend.paths.length).toBe(before);
      }
    }
  });

  it('sends encoded values inside the template, never elsewhere', async () => {
    const answer = await call('items_details', { id: '../../admin' });
    expect(answer.result.structuredContent.path).toBe('/api/items/..%2F..%2Fadmin/details');
    expect((await call('items_by_name', { name: '.hidden' })).result.structuredContent.path).toBe('/api/.hidden');
  });
});

describe('Host allow-list (DNS rebinding)', () => {
  const port = () => new URL(gw.url).port;

  it('serves loopback names by default', async () => {
    for (const host of [`localhost:${port()}`, `127.0.0.1:${port()}`, `[::1]:${port()}`, 'LOCALHOST']) {
      const res = await rawHttp(new URL('/healthz', gw.url).href, { headers: { host } });
      expect(res.status, host).toBe(200);
    }
  });

  it('refuses any other Host on the MCP endpoint, health, metrics and metadata, with a 403 naming the code', async () => {
    const host = `evil.example.com:${port()}`;
    const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    const mcp = await rawHttp(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, host }, body: init });
    expect(mcp.status).toBe(403);
    expect(JSON.parse(mcp.text).error.data.code).toBe('GW_HOST_NOT_ALLOWED');
    expect(mcp.headers['mcp-session-id']).toBeUndefined();
    for (const path of ['/healthz', '/metrics', '/.well-known/oauth-protected-resource/mcp']) {
      const res = await rawHttp(new URL(path, gw.url).href, { headers: { host } });
      expect(res.status, path).toBe(403);
      expect(res.text).not.toContain(backend.url);
    }
    // A session is no way around it.
    const list = await rawHttp(gw.url, { method: 'POST', headers: { ...MCP_HEADERS, host, 'mcp-session-id': sid }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(list.status).toBe(403);
  });
});

describe('configured hosts and the admin listener', () => {
  it('serves the names in server.allowedHosts, and health and metrics only on the admin listener when it has one', async () => {
    const own = await startGateway({
      server: { allowedHosts: ['mcp.example.com', '*.internal.example.com'] },
      admin: { port: 0 },
      backends: [{ name: 'items', kind: 'rest', urls: [backend.url], tools: [{ name: 'details', http: { path: '/items/{id}' } }] }],
    });
    try {
      const init = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
      const post = (host: string) => rawHttp(own.url, { method: 'POST', headers: { ...MCP_HEADERS, host }, body: init });
      expect((await post('mcp.example.com')).status).toBe(200);
      expect((await post('a.b.internal.example.com:443')).status).toBe(200);
      expect((await post('internal.example.com')).status).toBe(403);
      expect((await post('localhost')).status).toBe(403);
      // Health and metrics moved to the admin listener (loopback, loopback names).
      expect((await rawHttp(new URL('/metrics', own.url).href, { headers: { host: 'mcp.example.com' } })).status).toBe(404);
      expect(own.adminUrl).not.toBe(new URL(own.url).origin);
      expect((await fetch(`${own.adminUrl}/healthz`)).status).toBe(200);
      const metrics = await fetch(`${own.adminUrl}/metrics`);
      expect(metrics.status).toBe(200);
      expect(await metrics.text()).toContain('mcp_gateway_');
      expect((await rawHttp(`${own.adminUrl}/metrics`, { headers: { host: 'evil.example.com' } })).status).toBe(403);
    } finally {
      await own.stop();
    }
  });
});
