/**
 * Stateless (2026-07-28) clients on the same /mcp as session clients, bridged to session-era
 * backends: the official 2.4 SDK client pinned to 2026-07-28, in `auto` and in `legacy` mode, an
 * SDK 1.x server behind the gateway that asks its client things during calls, and the SDK 1.x
 * client beside them, unchanged. Raw requests check what the SDK never sends wrong (headers,
 * envelopes, forged and replayed `requestState`).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { connectClient } from '../support/client.js';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { modernClient } from '../support/stateless-client.js';
import { waitFor } from '../support/wait.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';

const V = '2026-07-28';
const FULL = { sampling: {}, elicitation: { form: {} } };
const META = (caps: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': caps,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
  ...extra,
});
const textOf = (r: any): string => r.content?.[0]?.text;

/** POST one stateless request with the headers a conforming client sends (overridable). */
async function post(url: string, method: string, params: Record<string, unknown>, headers: Record<string, string | undefined> = {}, id: number | null = 1): Promise<{ status: number; body: any }> {
  const name = typeof params.name === 'string' ? params.name : typeof params.uri === 'string' ? params.uri : undefined;
  const all: Record<string, string | undefined> = { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': method, ...(name ? { 'mcp-name': name } : {}), ...headers };
  const res = await fetch(url, {
    method: 'POST',
    headers: Object.fromEntries(Object.entries(all).filter((e): e is [string, string] => e[1] !== undefined)),
    body: JSON.stringify({ jsonrpc: '2.0', ...(id === null ? {} : { id }), method, params: { _meta: META(), ...params } }),
  });
  const text = await res.text();
  const json = text.startsWith('event:') || text.startsWith('data:') || text.startsWith('id:') ? JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6)) : text ? JSON.parse(text) : undefined;
  return { status: res.status, body: json };
}

/** Every JSON-RPC message of an SSE answer, in order. */
async function sseMessages(res: Response): Promise<any[]> {
  return (await res.text())
    .split('\n')
    .filter((l) => l.startsWith('data: '))
    .map((l) => JSON.parse(l.slice(6)));
}

/** A backend whose `wait` tool runs until it is cancelled, and says so. */
async function startWaitingServer(cancelled: string[]): Promise<McpHttpServer> {
  return serveMcp(() => {
    const mcp = new McpServer({ name: 'waiter', version: '1.0.0' });
    mcp.registerTool('wait', { description: 'Waits until cancelled.', inputSchema: { tag: z.string() } }, async ({ tag }, extra) => {
      await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: extra._meta?.progressToken ?? 'none', progress: 1 } });
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
      cancelled.push(tag);
      return { content: [{ type: 'text', text: 'cancelled' }] };
    });
    return mcp;
  });
}

let asker: AskingServer;
let library: LibraryServer;
let waiter: McpHttpServer;
let orders: OrdersApi;
const cancelled: string[] = [];
let gw: TestGateway;

beforeAll(async () => {
  asker = await startAskingServer();
  waiter = await startWaitingServer(cancelled);
  library = await startLibraryServer('lib');
  orders = await startOrdersApi();
  gw = await startGateway({
    backends: [
      { name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' },
      { name: 'waiter', kind: 'mcp', urls: [waiter.url], prefix: '' },
      { name: 'lib', kind: 'mcp', urls: [library.url] },
      {
        name: 'orders',
        kind: 'rest',
        urls: [orders.url],
        // The status is mirrored into a header, so an intermediary could route on it.
        tools: [{ name: 'list_orders', inputSchema: { type: 'object', properties: { status: { type: 'string', 'x-mcp-header': 'Status' } } }, http: { method: 'GET', path: '/orders' } }],
      },
    ],
    stateless: { cacheTtlMs: 30_000 },
  });
  await waitFor(() => gw.core.catalog.current().tools.has('summarize') && gw.core.catalog.current().tools.has('wait'), 'the tools discovered', 10_000);
});

afterAll(async () => {
  await gw?.stop();
  await waiter?.close();
  await library?.close();
  await orders?.close();
  await asker?.close();
});

describe('the official 2.4 client', () => {
  it('pinned to 2026-07-28: discovers, lists and calls tools of a session-era backend', async () => {
    const client = await modernClient(gw.url, { mode: 'pin' });
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(client.getNegotiatedProtocolVersion()).toBe(V);
      expect(client.getDiscoverResult()?.supportedVersions).toEqual([V, '2025-11-25', '2025-06-18', '2025-03-26']);
      expect(client.getServerVersion()?.name).toBe('mcp-gateway');
      const tools = (await client.listTools()).tools.map((t) => t.name);
      expect(tools).toEqual(expect.arrayContaining(['echo', 'wait']));
      expect(tools).not.toContain('summarize'); // offered only to clients that declare sampling
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'hi' } }))).toBe('hi');
    } finally {
      await client.close();
    }
  });

  it('pinned: answers an elicitation and a sampling request of the backend across the bridge', async () => {
    const asked: string[] = [];
    const client = await modernClient(gw.url, { mode: 'pin', capabilities: FULL, asked });
    try {
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(textOf(await client.callTool({ name: 'summarize', arguments: { topic: 'mcp' } }))).toBe('asker got: short: Summarize mcp (test-model)');
      expect(asked).toEqual(['elicitation/create', 'sampling/createMessage']);
    } finally {
      await client.close();
    }
  });

  it('pinned: reads resources, gets prompts and completions of a session-era backend', async () => {
    const client = await modernClient(gw.url, { mode: 'pin' });
    try {
      const readme = (await client.listResources()).resources.find((r) => r.name === 'readme')!;
      expect(readme).toBeDefined();
      const read = await client.readResource({ uri: readme.uri });
      expect((read.contents[0] as { text: string }).text).toBe('# lib');
      expect((await client.listResourceTemplates()).resourceTemplates.length).toBeGreaterThan(0);
      const prompt = (await client.listPrompts()).prompts.find((p) => p.name.endsWith('summarize'))!;
      const got = await client.getPrompt({ name: prompt.name, arguments: { topic: 'intro' } });
      expect((got.messages[0]!.content as { text: string }).text).toBe('Summarize intro (from lib)');
      const done = await client.complete({ ref: { type: 'ref/prompt', name: prompt.name }, argument: { name: 'topic', value: 'in' } });
      expect(done.completion.values).toEqual(['install', 'intro']);
    } finally {
      await client.close();
    }
  });

  it('in auto mode: finds the stateless era with server/discover and uses it', async () => {
    const asked: string[] = [];
    const client = await modernClient(gw.url, { mode: 'auto', capabilities: FULL, asked });
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(asked).toEqual(['elicitation/create']);
    } finally {
      await client.close();
    }
  });

  it('in legacy mode, and the 1.x client beside it: sessions as before', async () => {
    const asked: string[] = [];
    const legacy = await modernClient(gw.url, { mode: 'legacy', capabilities: FULL, asked });
    const { client: old } = await connectClient(gw.url);
    try {
      expect(legacy.getProtocolEra()).toBe('legacy');
      expect(textOf(await legacy.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(asked).toEqual(['elicitation/create']);
      const listed = (await old.listTools()) as any;
      expect(listed.resultType).toBeUndefined();
      expect(listed.ttlMs).toBeUndefined();
      expect(textOf(await old.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
    } finally {
      await Promise.all([legacy.close(), old.close()]);
    }
  });
});

describe('without an event store', () => {
  it('still holds a call for the client\'s input (events.store: off)', async () => {
    const plain = await startGateway({ backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }], events: { store: 'off' } });
    try {
      await waitFor(() => plain.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
      const asked: string[] = [];
      const client = await modernClient(plain.url, { mode: 'pin', capabilities: FULL, asked });
      try {
        for (let i = 0; i < 5; i++) expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
        expect(asked.length).toBe(5);
      } finally {
        await client.close();
      }
    } finally {
      await plain.stop();
    }
  });
});

describe('subscriptions/listen', () => {
  it('acknowledges, then carries list changes and updates of subscribed resources, tagged with the subscription id', async () => {
    const client = await modernClient(gw.url, { mode: 'pin' });
    const heard: any[] = [];
    client.setNotificationHandler('notifications/prompts/list_changed', (n) => void heard.push(n));
    client.setNotificationHandler('notifications/resources/updated', (n) => void heard.push(n));
    try {
      expect(client.getServerCapabilities()).toMatchObject({ prompts: { listChanged: true }, resources: { subscribe: true, listChanged: true } });
      const readme = (await client.listResources()).resources.find((r) => r.name === 'readme')!.uri;
      const sub = await client.listen({ promptsListChanged: true, resourceSubscriptions: [readme, 'mcpgw://nobody/x'] });
      expect(sub.honoredFilter).toEqual({ promptsListChanged: true, resourceSubscriptions: [readme] });
      await waitFor(() => library.subscriptions.includes('+file:///README.md'), 'the backend subscribed');
      // Touched until heard: the gateway follows the backend session once it subscribed, and what the backend sends before is lost.
      await waitFor(
        async () => {
          await library.touch('file:///README.md');
          return heard.some((n) => n.method === 'notifications/resources/updated');
        },
        'the resource update heard',
        10_000,
        100,
      );
      library.addPrompt('fresh');
      await waitFor(() => heard.some((n) => n.method === 'notifications/prompts/list_changed'), 'the prompt list change heard', 15_000);
      const update = heard.find((n) => n.method === 'notifications/resources/updated');
      expect(update.params.uri).toBe(readme);
      const tags = heard.map((n) => n.params?._meta?.['io.modelcontextprotocol/subscriptionId']);
      expect(new Set(tags).size).toBe(1);
      expect(tags[0]).toMatch(/^listen:/);
      // Closing the stream leaves the backend subscribed (another instance may listen on the same held record): test/unit/listen-close.test.ts.
      await sub.close();
    } finally {
      await client.close();
    }
  });
});

describe('subscriptions/listen keep-alive', () => {
  it('sends SSE comments on an idle listen stream every server.keepAliveIntervalMs', async () => {
    const quick = await startGateway({ backends: [{ name: 'lib', kind: 'mcp', urls: [library.url] }], server: { keepAliveIntervalMs: 50 } });
    const abort = new AbortController();
    try {
      const res = await fetch(quick.url, {
        method: 'POST',
        signal: abort.signal,
        headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'subscriptions/listen' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 'l1', method: 'subscriptions/listen', params: { _meta: META(), notifications: { toolsListChanged: true } } }),
      });
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const reader = res.body!.getReader();
      let seen = '';
      while (!seen.includes(': keep-alive')) {
        const { value, done } = await reader.read();
        if (done) break;
        seen += new TextDecoder().decode(value);
      }
      // The acknowledgement first, then comments while nothing changes.
      expect(seen.indexOf('notifications/subscriptions/acknowledged')).toBeGreaterThanOrEqual(0);
      expect(seen.indexOf(': keep-alive')).toBeGreaterThan(seen.indexOf('notifications/subscriptions/acknowledged'));
    } finally {
      abort.abort();
      await quick.stop();
    }
  });
});

describe('policy and audit', () => {
  it('respects the policy on relays and audits every round with the era', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-stateless-'));
    const auditFile = join(dir, 'audit.jsonl');
    const guarded = await startGateway({
      backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }],
      policy: { engine: 'rules', rules: [{ relays: ['sampling/*'], allow: 'nobody' }, { tools: ['*'], allow: 'anyone' }] },
      audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
    });
    try {
      await waitFor(() => guarded.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
      const asked: string[] = [];
      const client = await modernClient(guarded.url, { mode: 'pin', capabilities: FULL, asked });
      try {
        expect(textOf(await client.callTool({ name: 'summarize', arguments: { topic: 'x' } }))).toMatch(/^failed: .*Denied by policy/);
        expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
        expect(asked).toEqual(['elicitation/create']);
      } finally {
        await client.close();
      }
      const forged = await post(guarded.url, 'tools/call', { _meta: META(FULL), name: 'ask_name', arguments: {}, inputResponses: {}, requestState: 'AQ' + 'A'.repeat(60) });
      expect(forged.body.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
      const lines = async () => (await readFile(auditFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
      await waitFor(async () => (await lines()).filter((e) => e.event === 'mcp.tool_call').length === 2 && (await lines()).some((e) => e.event === 'mcp.denial'), 'the calls audited');
      const events = await lines();
      const relays = events.filter((e) => e.event === 'mcp.relay').map((e) => [e.method, e.outcome, e.tool, e.client.era]);
      expect(relays).toEqual([
        ['sampling/createMessage', 'denied', 'summarize', 'stateless'],
        ['elicitation/create', 'answered', 'ask_name', 'stateless'],
      ]);
      const calls = events.filter((e) => e.event === 'mcp.tool_call');
      expect(calls.map((e) => [e.tool, e.outcome, e.client.era, e.client.name])).toEqual([
        ['summarize', 'tool_error', 'stateless', 'modern-pin'],
        ['ask_name', 'ok', 'stateless', 'modern-pin'],
      ]);
      const denial = events.find((e) => e.event === 'mcp.denial');
      expect(denial).toMatchObject({ code: 'GW_REQUEST_STATE_INVALID', tool: 'ask_name', client: { era: 'stateless' } });
    } finally {
      await guarded.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('stateless requests on the wire', () => {
  it('answer with resultType, serverInfo and, for lists and discover, ttlMs and cacheScope', async () => {
    const discover = await post(gw.url, 'server/discover', {});
    expect(discover.status).toBe(200);
    expect(discover.body.result).toMatchObject({ resultType: 'complete', ttlMs: 30_000, cacheScope: 'public', supportedVersions: expect.arrayContaining([V]) });
    expect(discover.body.result._meta['io.modelcontextprotocol/serverInfo']).toMatchObject({ name: 'mcp-gateway' });
    const list = await post(gw.url, 'tools/list', {});
    expect(list.body.result).toMatchObject({ resultType: 'complete', ttlMs: 30_000, cacheScope: 'public' });
    const call = await post(gw.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } });
    expect(call.body.result).toMatchObject({ resultType: 'complete', content: [{ type: 'text', text: 'x' }] });
    expect(call.body.result.ttlMs).toBeUndefined();
    expect(call.body.result._meta['io.modelcontextprotocol/serverInfo'].name).toBe('mcp-gateway');
  });

  it('refuse missing or mismatched headers with 400 and -32020', async () => {
    for (const headers of [{ 'mcp-method': undefined }, { 'mcp-method': 'tools/list' }, { 'mcp-name': undefined }, { 'mcp-name': 'ask_name' }, { 'mcp-protocol-version': '2025-11-25' }]) {
      const r = await post(gw.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, headers);
      expect(r.status, JSON.stringify(headers)).toBe(400);
      expect(r.body.error.code).toBe(-32020);
      expect(r.body.id).toBe(1);
    }
    const encoded = await post(gw.url, 'tools/call', { name: 'echo', arguments: { text: 'x' } }, { 'mcp-name': `=?base64?${Buffer.from('echo').toString('base64')}?=` });
    expect(encoded.body.result.content[0].text).toBe('x');
  });

  it("check a tool's Mcp-Param headers against its x-mcp-header arguments; the 2.4 client sends them", async () => {
    const args = { name: 'orders_list_orders', arguments: { status: 'open' } };
    const missing = await post(gw.url, 'tools/call', args);
    expect(missing.status).toBe(400);
    expect(missing.body.error).toMatchObject({ code: -32020, message: expect.stringMatching(/Mcp-Param-Status header is missing/) });
    const wrong = await post(gw.url, 'tools/call', args, { 'mcp-param-status': 'shipped' });
    expect(wrong.status).toBe(400);
    const right = await post(gw.url, 'tools/call', args, { 'mcp-param-status': 'open' });
    expect(right.body.result.isError).toBeFalsy();
    const client = await modernClient(gw.url, { mode: 'pin' });
    try {
      await client.listTools();
      const r = await client.callTool({ name: 'orders_list_orders', arguments: { status: 'open' } });
      expect(r.isError).toBeFalsy();
    } finally {
      await client.close();
    }
  });

  it('refuse an unsupported revision with 400, -32022 and the supported ones', async () => {
    const r = await post(gw.url, 'tools/list', { _meta: META({}, { 'io.modelcontextprotocol/protocolVersion': '2099-01-01' }) }, { 'mcp-protocol-version': '2099-01-01' });
    expect(r.status).toBe(400);
    expect(r.body.error).toMatchObject({ code: -32022, data: { supported: [V, '2025-11-25', '2025-06-18', '2025-03-26'], requested: '2099-01-01' } });
  });

  it('refuse an envelope without clientCapabilities with 400 and -32602', async () => {
    const r = await post(gw.url, 'tools/list', { _meta: { 'io.modelcontextprotocol/protocolVersion': V } });
    expect(r.status).toBe(400);
    expect(r.body.error.code).toBe(-32602);
    expect(r.body.error.message).toMatch(/clientCapabilities/);
  });

  it('answer methods of the session era only, and unknown ones, with 404 and -32601', async () => {
    for (const method of ['ping', 'initialize', 'resources/subscribe', 'no/such']) {
      const r = await post(gw.url, method, {});
      expect(r.status, method).toBe(404);
      expect(r.body.error.code).toBe(-32601);
    }
  });

  it('let browsers send the mirrored headers (CORS preflight)', async () => {
    const res = await fetch(gw.url, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:3000', 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type, mcp-protocol-version, mcp-method, mcp-name, mcp-param-region, x-evil header' },
    });
    expect(res.status).toBe(204);
    const allowed = res.headers.get('access-control-allow-headers')!.split(', ');
    expect(allowed).toEqual(expect.arrayContaining(['mcp-protocol-version', 'mcp-method', 'mcp-name', 'mcp-param-region']));
    expect(allowed).not.toContain('x-evil header');
  });

  it('answer GET and DELETE with 405, and take a notification with 202', async () => {
    for (const method of ['GET', 'DELETE']) {
      const res = await fetch(gw.url, { method, headers: { accept: 'text/event-stream', 'mcp-protocol-version': V } });
      expect(res.status, method).toBe(405);
      expect(res.headers.get('allow')).toBe('POST');
    }
    // A header that names no revision is not taken for the stateless era.
    const nonsense = await fetch(gw.url, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': 'zzz' } });
    expect(nonsense.status).toBe(400);
    const n = await post(gw.url, 'notifications/cancelled', { requestId: 7 }, {}, null);
    expect(n.status).toBe(202);
  });

  it("ask a backend's requests sent at once in one round, and ignore answers to requests it never asked", async () => {
    const meta = { _meta: META(FULL) };
    await waitFor(() => gw.core.catalog.current().tools.has('ask_both'), 'the tool that asks twice discovered');
    const first = await post(gw.url, 'tools/call', { ...meta, name: 'ask_both', arguments: {} });
    expect(first.body.result.resultType).toBe('input_required');
    const asked = Object.entries(first.body.result.inputRequests) as Array<[string, any]>;
    expect(asked.map(([, r]) => r.method).sort()).toEqual(['elicitation/create', 'sampling/createMessage']);
    const answers: Record<string, unknown> = { unknown_extra_key: { action: 'accept', content: { foo: 'bar' } } };
    for (const [key, r] of asked) {
      answers[key] = r.method === 'elicitation/create' ? { action: 'accept', content: { name: 'Ada' } } : { role: 'assistant', content: { type: 'text', text: 'Hello' }, model: 'm' };
    }
    const done = await post(gw.url, 'tools/call', { ...meta, name: 'ask_both', arguments: {}, inputResponses: answers, requestState: first.body.result.requestState }, {}, 2);
    expect(done.body).toMatchObject({ id: 2, result: { resultType: 'complete', content: [{ text: 'Hello Ada' }] } });
  });

  it('refuse a forged requestState, and a replayed one, before anything reaches the backend', async () => {
    const meta = { _meta: META(FULL) };
    const first = await post(gw.url, 'tools/call', { ...meta, name: 'ask_name', arguments: {} });
    expect(first.body.result.resultType).toBe('input_required');
    const [key, request] = Object.entries(first.body.result.inputRequests)[0] as [string, any];
    expect(request.method).toBe('elicitation/create');
    const state: string = first.body.result.requestState;
    const answers = { [key]: { action: 'accept', content: { name: 'Grace' } } };

    const forged = Buffer.from(state, 'base64url');
    forged[20]! ^= 1;
    const refused = await post(gw.url, 'tools/call', { ...meta, name: 'ask_name', arguments: {}, inputResponses: answers, requestState: forged.toString('base64url') });
    expect(refused.body.error).toMatchObject({ code: -32602, data: { code: 'GW_REQUEST_STATE_INVALID' } });
    const elsewhere = await post(gw.url, 'tools/call', { ...meta, name: 'echo', arguments: { text: 'x' }, inputResponses: answers, requestState: state });
    expect(elsewhere.body.error.message).toMatch(/another request/);

    const done = await post(gw.url, 'tools/call', { ...meta, name: 'ask_name', arguments: {}, inputResponses: answers, requestState: state }, {}, 2);
    expect(done.body).toMatchObject({ id: 2, result: { resultType: 'complete', content: [{ text: 'hello Grace' }] } });
    const failuresBefore = asker.failures.length;
    const replayed = await post(gw.url, 'tools/call', { ...meta, name: 'ask_name', arguments: {}, inputResponses: { [key]: { action: 'accept', content: { name: 'Mallory' } } }, requestState: state }, {}, 3);
    expect(replayed.body.error).toMatchObject({ code: -32602, data: { code: 'GW_REQUEST_STATE_INVALID' } });
    expect(replayed.body.error.message).toMatch(/used already/);
    expect(asker.failures.length).toBe(failuresBefore);
  });

  it("carry a call's log messages on its own stream only at the request's logLevel", async () => {
    const call = (meta: Record<string, unknown>) =>
      fetch(gw.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'chatter' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'chatter', arguments: {}, _meta: meta } }),
      });
    const logged = (ms: any[]) => ms.filter((m) => m.method === 'notifications/message').map((m) => m.params.level);
    const atInfo = await sseMessages(await call(META({}, { 'io.modelcontextprotocol/logLevel': 'info' })));
    expect(logged(atInfo)).toEqual(['info', 'warning']);
    expect(atInfo.at(-1)).toMatchObject({ id: 5, result: { resultType: 'complete', content: [{ text: 'done' }] } });
    const res = await call(META());
    const unasked = res.headers.get('content-type')?.startsWith('text/event-stream') ? await sseMessages(res) : [await res.json()];
    expect(logged(unasked)).toEqual([]);
    expect(unasked.at(-1).result.content[0].text).toBe('done');
  });

  it('never ask a client what it did not declare: the backend gets GW_RELAY_NOT_DECLARED, the client -32021 with HTTP 400', async () => {
    const failuresBefore = asker.failures.length;
    const r = await post(gw.url, 'tools/call', { name: 'force_sample', arguments: {} }, {}, 7);
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ id: 7, error: { code: -32021, data: { code: 'GW_CAPABILITY_REQUIRED', requiredCapabilities: { sampling: {} } } } });
    await waitFor(() => asker.failures.length > failuresBefore, 'the backend answered in the client\'s stead');
    expect(asker.failures.at(-1)).toMatch(/did not declare "sampling"/);
  });

  it('cancel the call upstream when the client closes its response stream', async () => {
    const abort = new AbortController();
    const res = await fetch(gw.url, {
      method: 'POST',
      signal: abort.signal,
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'wait' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'wait', arguments: { tag: 'closed' }, _meta: { ...META(), progressToken: 'p1' } } }),
    });
    const reader = res.body!.getReader();
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/notifications\/progress/);
    abort.abort();
    await waitFor(() => cancelled.includes('closed'), 'the backend told the call was cancelled');
  });
});
