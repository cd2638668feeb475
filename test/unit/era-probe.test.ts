/**
 * How the gateway tells a backend's era: `server/discover` against real node:http servers on
 * port 0 that answer the ways servers of either era do, and a real SDK 1.x server. A 2026-07-28
 * result means stateless; any other answer falls back to `initialize`; a 5xx or a network error
 * is the instance's failure, not an answer. A pinned era is never second-guessed.
 */
import { getEventListeners } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { serveMcp } from '../../examples/backends/mcp-http.js';
import { pino } from 'pino';
import { BackendEras } from '../../src/upstream/backend-eras.js';
import { OutboundCredentials } from '../../src/upstream/credentials.js';
import { InstanceFailure } from '../../src/upstream/failover.js';
import { Pools } from '../../src/upstream/pool.js';
import { probeEra } from '../../src/upstream/stateless-wire.js';
import { backendSchema, type McpBackendConfig } from '../../src/config/schema.js';
import { waitFor } from '../support/wait.js';

const dispatcher = new Agent();
const info = { name: 'gw', version: '1' };
const own = { credentials: new OutboundCredentials(dispatcher, pino({ level: 'silent' })), defaultTimeoutMs: 5_000 };
const closers: Array<() => Promise<void>> = [];

/** A backend answering every POST with `answer`; records the requests' methods. */
async function backend(answer: (body: any, res: ServerResponse) => void): Promise<{ url: string; methods: string[]; headers: IncomingMessage['headers'][] }> {
  const methods: string[] = [];
  const headers: IncomingMessage['headers'][] = [];
  const http = createServer(async (req: IncomingMessage, res) => {
    let text = '';
    for await (const c of req) text += c;
    const body = JSON.parse(text);
    methods.push(body.method);
    headers.push(req.headers);
    answer(body, res);
  });
  const base = await listen(http);
  closers.push(() => closeServer(http));
  return { url: `${base}/mcp`, methods, headers };
}

const json = (res: ServerResponse, status: number, body: unknown): void => void res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
const probe = (url: string) => probeEra(dispatcher, url, {}, info, AbortSignal.timeout(5_000));

afterEach(async () => {
  await Promise.all(closers.splice(0).map((c) => c()));
});
afterAll(() => dispatcher.close());

describe('probing server/discover', () => {
  it('a result listing 2026-07-28 is the stateless era, with the capabilities it declares', async () => {
    const b = await backend((m, res) => json(res, 200, { jsonrpc: '2.0', id: m.id, result: { resultType: 'complete', supportedVersions: ['2026-07-28'], capabilities: { tools: {} }, ttlMs: 60_000, cacheScope: 'public' } }));
    expect(await probe(b.url)).toEqual({ era: 'stateless', capabilities: { tools: {} }, ttlMs: 60_000 });
  });

  it.each([
    ['HTTP 400 without a body', (_m: any, res: ServerResponse) => void res.writeHead(400).end()],
    ['HTTP 404', (_m: any, res: ServerResponse) => void res.writeHead(404).end('no')],
    ['HTTP 405', (_m: any, res: ServerResponse) => void res.writeHead(405).end()],
    ['-32601 method not found', (m: any, res: ServerResponse) => json(res, 200, { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: 'Method not found' } })],
    ['a result without 2026-07-28', (m: any, res: ServerResponse) => json(res, 200, { jsonrpc: '2.0', id: m.id, result: { supportedVersions: ['2025-11-25'], capabilities: {} } })],
    ['a body that is not JSON-RPC', (_m: any, res: ServerResponse) => json(res, 200, { hello: 'world' })],
  ])('%s falls back to the session era', async (_name, answer) => {
    const b = await backend(answer);
    expect(await probe(b.url)).toEqual({ era: 'session' });
  });

  it('an SDK 1.x session server (it wants initialize first) falls back to the session era', async () => {
    const sdk = await serveMcp(() => new McpServer({ name: 'old', version: '1' }));
    closers.push(() => sdk.close());
    expect(await probe(sdk.url)).toEqual({ era: 'session' });
  });

  it('abandons a stream it cannot read instead of leaving it open with a listener on the signal', async () => {
    // A list watch probes on its own long-lived signal, once per retry: each open stream would keep one abort listener there.
    const b = await backend((_m, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: {not json\n\n');
    });
    const signal = new AbortController().signal;
    expect(await probeEra(dispatcher, b.url, {}, info, signal)).toEqual({ era: 'session' });
    await waitFor(() => getEventListeners(signal, 'abort').length === 0, 'the stream closed and its abort listener removed', 2_000);
  });

  it('HTTP 5xx is the instance failing, for failover, not an answer about its era', async () => {
    const b = await backend((_m, res) => void res.writeHead(503).end());
    await expect(probe(b.url)).rejects.toBeInstanceOf(InstanceFailure);
  });
});

describe('BackendEras', () => {
  const config = (raw: Record<string, unknown>): McpBackendConfig => backendSchema.parse({ kind: 'mcp', name: 'b', ...raw }) as McpBackendConfig;
  const modern = (m: any, res: ServerResponse): void => json(res, 200, { jsonrpc: '2.0', id: m.id, result: { supportedVersions: ['2026-07-28'], capabilities: {} } });

  it('learns an unpinned backend era from one probe and remembers it', async () => {
    const b = await backend(modern);
    const eras = new BackendEras(dispatcher, new Pools(1_000), info, own);
    const cfg = config({ urls: [b.url] });
    expect(eras.known(cfg)).toBeUndefined();
    expect(await eras.of(cfg, new AbortController().signal)).toBe('stateless');
    expect(await eras.of(cfg, new AbortController().signal)).toBe('stateless');
    expect(b.methods).toEqual(['server/discover']);
  });

  it('keeps the era while the instances change (Consul membership), probing the new list in the background once', async () => {
    const b = await backend(modern);
    const eras = new BackendEras(dispatcher, new Pools(1_000), info, own);
    const cfg = config({ urls: [b.url] });
    await eras.of(cfg, new AbortController().signal);
    const scaled = { ...cfg, urls: [b.url, `${b.url}?instance=2`] };
    // A call just after the backend scaled is routed on what is known, not held up by a probe.
    expect(eras.known(scaled)).toBe('stateless');
    expect(eras.known(scaled)).toBe('stateless');
    await waitFor(() => b.methods.length === 2, 'the new instance list probed');
    await eras.of(scaled, new AbortController().signal);
    expect(b.methods).toEqual(['server/discover', 'server/discover']);
  });

  it('runs a shared probe for every waiting call: one caller going away fails alone, the others get the era', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const b = await backend((m, res) => void held.then(() => modern(m, res)));
    const eras = new BackendEras(dispatcher, new Pools(1_000), info, own);
    const cfg = config({ urls: [b.url], headers: { 'x-gateway-key': 'own' } });
    const first = new AbortController();
    const a = eras.of(cfg, first.signal);
    const second = eras.of(cfg, new AbortController().signal);
    await waitFor(() => b.methods.length === 1, 'the probe reached the backend');
    first.abort(new Error('the first client disconnected'));
    await expect(a).rejects.toThrow('the first client disconnected');
    release();
    expect(await second).toBe('stateless');
    expect(b.methods).toEqual(['server/discover']);
    // The probe is the gateway's own: the backend's configured credentials, not a caller's.
    expect(b.headers[0]?.['x-gateway-key']).toBe('own');
  });

  it('never probes a backend pinned to the session era', async () => {
    const b = await backend(modern);
    const eras = new BackendEras(dispatcher, new Pools(1_000), info, own);
    const cfg = config({ urls: [b.url], era: 'session' });
    expect(await eras.of(cfg, new AbortController().signal)).toBe('session');
    expect(await eras.probe(cfg, b.url, {}, AbortSignal.timeout(5_000))).toEqual({ era: 'session' });
    expect(b.methods).toEqual([]);
  });

  it('reports a backend pinned to the stateless era that does not answer server/discover as broken', async () => {
    const b = await backend((_m, res) => void res.writeHead(400).end());
    const eras = new BackendEras(dispatcher, new Pools(1_000), info, own);
    const cfg = config({ urls: [b.url], era: 'stateless' });
    expect(eras.known(cfg)).toBe('stateless');
    await expect(eras.probe(cfg, b.url, {}, AbortSignal.timeout(5_000))).rejects.toThrow(/pinned to the stateless era/);
  });

  it('refuses an era setting it does not know, naming the key', () => {
    const r = backendSchema.safeParse({ kind: 'mcp', name: 'b', urls: ['http://x/mcp'], era: 'modern' });
    expect(r.success).toBe(false);
    expect(JSON.stringify(r.error?.issues[0]?.path)).toBe('["era"]');
  });
});
