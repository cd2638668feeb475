/**
 * Holes an attacker would try first: a REST path template stepped out of (policy bypass), and a
 * web page reaching the gateway through DNS rebinding (Host not checked).
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { waitFor } from '../support/wait.js';
import { startGatedProxy } from '../support/http-backends.js';
import { startNotesServer } from '../../examples/backends/notes-mcp.js';
import { jsonOf, MCP_HEADERS, rawHttp, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';

/** A REST backend that records every path it is asked for; `/stream/ndjson` and `/stream/oneline` send 100 MB, made as they go. */
async function pathRecorder() {
  const paths: string[] = [];
  const sent = { bytes: 0, finished: false };
  const server = createServer(async (req, res) => {
    paths.push(req.url ?? '');
    req.resume();
    if (req.url?.startsWith('/api/stream/')) {
      res.writeHead(200, { 'content-type': 'application/x-ndjson' });
      const piece = req.url.endsWith('ndjson') ? `${JSON.stringify({ pad: 'x'.repeat(1000) })}\n` : 'y'.repeat(1024);
      sent.bytes = 0;
      sent.finished = false;
      while (sent.bytes < 100 * 1024 * 1024 && !res.destroyed) {
        sent.bytes += piece.length;
        // Both listeners go once either fires: a 'close' left behind per drain would pile up on this one response.
        if (!res.write(piece)) await new Promise<void>((r) => {
          const done = (): void => {
            res.off('drain', done).off('close', done);
            r();
          };
          res.on('drain', done).on('close', done);
        });
      }
      sent.finished = !res.destroyed;
      return res.end();
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ path: req.url, headers: req.headers }));
  });
  return { url: await listen(server), paths, sent, close: () => closeServer(server) };
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
          { name: 'tagged', inputSchema: { type: 'object', properties: { tag: { type: 'string' } } }, http: { path: '/tagged', headers: { 'X-Tag': '{tag}' } } },
          { name: 'stream', inputSchema: { type: 'object', properties: { kind: { enum: ['ndjson', 'oneline'] } } }, http: { path: '/stream/{kind}' } },
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

describe('arguments that are the caller\'s fault, not the backend\'s', () => {
  it('refuses CR/LF in a header argument with a clear isError, and does not cool the healthy instance down', async () => {
    for (const tag of ['a\r\nx-injected: 1', 'a\nb', 'nul\u0000']) {
      const answer = await call('items_tagged', { tag });
      expect(answer.result.isError).toBe(true);
      expect(answer.result.content[0].text).toContain('may not contain control characters');
    }
    const metrics = await (await fetch(new URL('/metrics', gw.url))).text();
    expect(metrics).toMatch(/mcp_gateway_upstream_instance_cooling\{backend="items",instance="[^"]+"\} 0/);
    const ok = await call('items_tagged', { tag: 'fine' });
    expect(ok.result.structuredContent.headers['x-tag']).toBe('fine');
  });
});

describe('streamed answers far larger than memory should hold', () => {
  for (const kind of ['ndjson', 'oneline'] as const) {
    it(`stops reading a 100 MB ${kind === 'ndjson' ? 'NDJSON stream' : 'stream without a newline'} at the limit, with a clear isError and bounded memory`, async () => {
      const rss = process.memoryUsage().rss;
      // A JSON-only client: the chunks are not relayed as notifications, only the final answer.
      const answer = await jsonOf(await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'items_stream', arguments: { kind } } }, { accept: 'application/json' }));
      const grown = process.memoryUsage().rss - rss;
      expect(answer.result.isError).toBe(true);
      expect(answer.result._meta['io.github.mcp-gateway/error']).toBe('GW_UPSTREAM_TOO_LARGE');
      // The gateway closed the connection: the backend could not send its 100 MB.
      await waitFor(() => !backend.sent.finished && backend.sent.bytes < 100 * 1024 * 1024, 'backend cut off');
      // Before the limits the gateway grew by 0.5-1 GB here; 16 MiB of chunks and their copies fit well within this.
      expect(grown).toBeLessThan(200 * 1024 * 1024);
      await call('items_details', { id: 'still-serving' });
    });
  }
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

describe('tools a caller may not see', () => {
  it('answer exactly as tools that do not exist, whatever the arguments: no probing for names or schemas', async () => {
    const own = await startGateway({
      policy: { engine: 'rules', rules: [{ tools: ['items_hidden'], allow: 'nobody' }, { tools: ['*'], allow: 'anyone' }] },
      backends: [
        {
          name: 'items',
          kind: 'rest',
          urls: [backend.url],
          tools: [
            { name: 'hidden', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, http: { path: '/hidden' } },
            { name: 'open', inputSchema: { type: 'object', properties: { text: { type: 'string' } }, required: ['text'] }, http: { path: '/open' } },
          ],
        },
      ],
    });
    try {
      const sid = (await rawInitialize(own.url)).sessionId;
      const ask = async (name: string, args: Record<string, unknown>) =>
        (await jsonOf(await rawPost(own.url, sid, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name, arguments: args } }))).error;
      const before = backend.paths.length;
      const missing = await ask('items_missing', { text: 5 });
      for (const args of [{ text: 'ok' }, { text: 5 }, {}]) {
        expect(await ask('items_hidden', args)).toEqual({ ...missing, message: missing.message.replace('items_missing', 'items_hidden') });
      }
      expect(missing).toMatchObject({ code: -32602, data: { code: 'GW_UNKNOWN_TOOL' } });
      expect(backend.paths.length).toBe(before);
      // A tool the caller sees still gets its argument errors, so the model can fix them.
      const visible = await jsonOf(await rawPost(own.url, sid, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'items_open', arguments: { text: 5 } } }));
      expect(visible.result.isError).toBe(true);
    } finally {
      await own.stop();
    }
  });
});

describe('what a failed backend call tells the client', () => {
  it('names the backend instance by position, never by its internal URL', async () => {
    const notes = await startNotesServer();
    const proxy = await startGatedProxy(notes.url);
    const own = await startGateway({ backends: [{ name: 'notes', kind: 'mcp', urls: [proxy.url] }] });
    try {
      await waitFor(() => own.core.catalog.current().tools.has('notes_list_notes'), 'discovery');
      proxy.failInitialize = true; // the client's backend session cannot be opened
      const sid = (await rawInitialize(own.url)).sessionId;
      const answer = await jsonOf(await rawPost(own.url, sid, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes_list_notes', arguments: {} } }));
      const text: string = answer.result.content[0].text;
      expect(answer.result.isError).toBe(true);
      expect(text).toContain('instance 1 of 1');
      expect(text).not.toContain(new URL(proxy.url).host);
    } finally {
      await own.stop();
      await proxy.close();
      await notes.close();
    }
  });
});
