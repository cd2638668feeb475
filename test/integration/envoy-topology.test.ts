/**
 * The whole Envoy topology with the real Envoy: envoy/envoy.yaml in front of the gateway process
 * (ext_proc, broker, xDS) and real SDK backends, driven by the official MCP SDK client. Native
 * MCP calls go from Envoy straight to the backend clusters Envoy learned over xDS; the tests read
 * Envoy's own counters to tell which way a call went.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { ERROR_META_KEY } from '../../src/upstream/results.js';
import { clusterName } from '../../src/xds/clusters.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { connectClient } from '../support/client.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { MCP_HEADERS, ORDER_TOOLS, rawHttp, rawInitialize, rawPost, startExtProc } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { startGatedProxy, type GatedProxy } from '../support/http-backends.js';

let orders: OrdersApi;
/** A stateful SDK backend on two instances: sessions live on one instance each. */
let notes: NotesServer[];
/** A stateless SDK backend on two instances (any instance answers any call), answering in JSON bodies. */
let scratch: NotesServer[];
/** An SDK backend with resources, a template, a prompt and completions. */
let library: LibraryServer;
/** The notes backend behind a proxy that adds headers a backend should not set, and can fail calls. */
let forger: GatedProxy;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;

beforeAll(async () => {
  orders = await startOrdersApi();
  notes = [await startNotesServer(), await startNotesServer()];
  scratch = [await startNotesServer({ stateless: true, jsonResponse: true }), await startNotesServer({ stateless: true, jsonResponse: true })];
  library = await startLibraryServer('library');
  forger = await startGatedProxy(notes[0]!.url);
  gw = await startExtProc({
    server: { allowedOrigins: ['http://localhost:*'] },
    policy: {
      engine: 'rules',
      rules: [
        { tools: ['orders_create_order'], allow: 'nobody' },
        { resources: ['mcpgw://library/file:///README.md'], allow: 'nobody' },
        { tools: ['*'], resources: ['*'], prompts: ['*'], allow: 'anyone' },
      ],
    },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      // Short budgets, so the tests of routed-call timeouts are quick.
      { name: 'notes', kind: 'mcp', urls: notes.map((n) => n.url), timeoutMs: 3_000 },
      { name: 'scratch', kind: 'mcp', urls: scratch.map((n) => n.url), timeoutMs: 1_000 },
      { name: 'library', kind: 'mcp', urls: [library.url] },
      { name: 'forger', kind: 'mcp', urls: [forger.url] },
    ],
    virtualServers: [{ name: 'jotter', instructions: 'Take notes.', select: { backends: ['notes'] }, rename: { notes_add_note: 'jot' } }],
  });
  ({ envoy, endpoint } = await startTopologyEnvoy(gw));
  // Native tools are discovered in the background; Envoy learns the clusters over xDS.
  await waitFor(
    () => gw.core.catalog.current().tools.has('scratch_list_notes') && gw.core.catalog.current().tools.has('notes_count_slowly') && gw.core.catalog.current().tools.has('forger_add_note') && gw.core.catalog.current().prompts.has('library_summarize'),
    'native tools and prompts discovered',
    15_000,
  );
  await waitFor(async () => (await clusterStat('scratch', 'membership_healthy')) === 2 && (await clusterStat('notes', 'membership_healthy')) === 2, 'Envoy knows both backend clusters', 15_000);
});

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
  await library?.close();
  await forger?.close();
  for (const n of [...(notes ?? []), ...(scratch ?? [])]) await n.close().catch(() => undefined);
});

/** One counter or gauge of a backend's cluster, from Envoy's admin `/stats` (under the cluster's `alt_stat_name`). */
function clusterStat(backend: string, stat: string): Promise<number> {
  return envoyStat(envoy.adminUrl, `cluster.${clusterName(backend).replace(/\./g, '_')}.${stat}`);
}

describe('the Envoy topology', () => {
  it('routes native MCP calls straight to the backend cluster, streams their progress, and keeps REST calls on the broker', async () => {
    const before = await clusterStat('notes', 'upstream_rq_total');
    const { client } = await connectClient(endpoint);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['orders_get_order', 'notes_add_note', 'notes_count_slowly', 'scratch_list_notes']));
    const progress: number[] = [];
    const counted = await client.callTool({ name: 'notes_count_slowly', arguments: { n: 3, delayMs: 10 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(counted.content).toEqual([{ type: 'text', text: 'counted to 3' }]);
    expect(progress).toEqual([1, 2, 3]);
    const saved = await client.callTool({ name: 'notes_add_note', arguments: { text: 'through envoy' } });
    expect(saved.isError).toBeFalsy();
    expect(await clusterStat('notes', 'upstream_rq_total')).toBeGreaterThanOrEqual(before + 2);
    // ext_proc counts (and audits) the calls it routed, from the backend's answer status.
    const { body: metrics } = await gw.core.telemetry.metrics.scrape();
    expect(metrics).toMatch(/mcp_gateway_tool_calls_total\{tool="notes_add_note",backend="notes",outcome="ok",virtual_server="default",era="session"\} [1-9]/);
    const order = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(order.structuredContent).toMatchObject({ id: '1001' });
    await client.close();
  });

  it('serves a virtual server path: its subset only, and a renamed native tool routed straight to the backend under its real name', async () => {
    const before = await clusterStat('notes', 'upstream_rq_total');
    const { client, transport } = await connectClient(`${endpoint}/jotter`);
    expect(client.getInstructions()).toBe('Take notes.');
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['jot', 'notes_count_slowly', 'notes_list_notes']);
    // The backend knows only "add_note": the body Envoy sends it carries that name.
    const saved = await client.callTool({ name: 'jot', arguments: { text: 'renamed through envoy' } });
    expect(saved.isError, JSON.stringify(saved.content)).toBeFalsy();
    const listed = await client.callTool({ name: 'notes_list_notes', arguments: {} });
    expect((listed.content as Array<{ text: string }>)[0]!.text).toContain('renamed through envoy');
    expect(await clusterStat('notes', 'upstream_rq_total')).toBeGreaterThanOrEqual(before + 2);
    // Outside the server: unknown, answered by ext_proc; the session is refused on the default path.
    const outside = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } }).catch((e: Error) => e);
    expect(String(outside)).toMatch(/Unknown tool: "orders_get_order"/);
    const elsewhere = await rawPost(endpoint, transport.sessionId!, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(elsewhere.status).toBe(404);
    expect((await rawPost(`${endpoint}/nobody`, undefined, { jsonrpc: '2.0', id: 2, method: 'ping' })).status).toBe(404);
    await client.close();
  });

  it('keeps a stateful backend session on its instance: every call of a client session lands where the session lives', async () => {
    const { client } = await connectClient(endpoint);
    for (let i = 0; i < 6; i++) {
      const r = await client.callTool({ name: 'notes_add_note', arguments: { text: `pinned ${i}` } });
      expect(r.isError, JSON.stringify(r.content)).toBeFalsy();
    }
    // Round-robin without pinning would have sent half of these to the instance without the session (404).
    const listed = await client.callTool({ name: 'notes_list_notes', arguments: {} });
    expect((listed.content as Array<{ text: string }>)[0]!.text).toContain('pinned 5');
    await client.close();
  });

  it('answers a routed call whose backend lost the session with the tool error the broker gives, and the next call opens a new session', async () => {
    const { client } = await connectClient(endpoint);
    const first = await client.callTool({ name: 'notes_add_note', arguments: { text: 'before the restart' } });
    expect(first.isError, JSON.stringify(first.content)).toBeFalsy();
    // A passing answer is never shown to ext_proc: one stream per call (mcp.failed_answers skipped it).
    const streams = () => envoyStat(envoy.adminUrl, 'http.mcp.ext_proc.streams_started');
    let before = await streams();
    await client.callTool({ name: 'notes_add_note', arguments: { text: 'still there' } });
    expect(await streams()).toBe(before + 1);
    // Both instances forget every session, as a restarted backend would: the pinned session's instance answers 404.
    for (const n of notes) n.sessions.clear();
    before = await streams();
    const lost = await client.callTool({ name: 'notes_add_note', arguments: { text: 'lost' } });
    // The failing answer went to ext_proc on a stream of its own, which answered in the broker's words.
    expect(await streams()).toBe(before + 2);
    expect(lost).toEqual({
      content: [{ type: 'text', text: 'The backend lost the session this call was sent in: backend "notes" no longer knows the session; call the tool again' }],
      isError: true,
      _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_SESSION_LOST' },
    });
    // ext_proc forgot that backend session before the client heard of it: the next call opens another.
    const again = await client.callTool({ name: 'notes_add_note', arguments: { text: 'after the restart' } });
    expect(again.isError, JSON.stringify(again.content)).toBeFalsy();
    const { body: metrics } = await gw.core.telemetry.metrics.scrape();
    expect(metrics).toMatch(/mcp_gateway_tool_calls_total\{tool="notes_add_note",backend="notes",outcome="tool_error",[^}]*\} [1-9]/);
    await client.close();
  });

  it("gives a browser's routed call, answered by the backend or failed, the CORS headers the broker would add; other origins none", async () => {
    const { sessionId } = await rawInitialize(endpoint);
    const call = (id: number, origin: string) =>
      rawPost(endpoint, sessionId, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'notes_add_note', arguments: { text: `from ${origin}` } } }, { origin, 'mcp-protocol-version': '2025-11-25' });
    const before = await clusterStat('notes', 'upstream_rq_total');
    const allowed = await call(71, 'http://localhost:5173');
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(allowed.headers.get('access-control-expose-headers')).toMatch(/mcp-session-id/i);
    expect(allowed.headers.get('mcp-session-id')).toBeNull();
    expect(await allowed.text()).toContain('"id":71');
    expect(await clusterStat('notes', 'upstream_rq_total')).toBeGreaterThan(before);
    // A failing answer too: the backend forgot every session.
    for (const n of notes) n.sessions.clear();
    const failed = await call(72, 'http://localhost:5173');
    expect(failed.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    expect(await failed.text()).toContain('GW_UPSTREAM_SESSION_LOST');
    const other = await call(73, 'https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it("never shows a backend the gateway's internal headers (the caller's principal digest, the route, the call's name), nor a client's look-alikes", async () => {
    const { sessionId } = await rawInitialize(endpoint);
    const before = forger.callHeaders.length;
    // A client's look-alikes with underscores, which some backend stacks (WSGI, CGI) read as the
    // same header name, must not get through either.
    const lookAlikes = { x_mcp_gateway_subject: 'admin', x_mcp_gateway_principal: 'forged' };
    const answered = await rawPost(endpoint, sessionId, { jsonrpc: '2.0', id: 91, method: 'tools/call', params: { name: 'forger_add_note', arguments: { text: 'private' } } }, { 'mcp-protocol-version': '2025-11-25', origin: 'http://localhost:5173', ...lookAlikes });
    expect(await answered.text()).toContain('"id":91');
    // The answer still carries what ext_proc decided for it (CORS), copied by the backend route.
    expect(answered.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
    const seen = forger.callHeaders.slice(before);
    expect(seen).toHaveLength(1);
    expect(Object.keys(seen[0]!).filter((name) => /^x[-_]mcp[-_]gateway[-_]/.test(name))).toEqual([]);
  });

  it("drops a backend's own CORS and x-mcp-gateway-call headers from its answers: it cannot grant an origin access nor name another call", async () => {
    forger.answerHeaders = { 'access-control-allow-origin': '*', 'x-mcp-gateway-call': 'forged' };
    const { sessionId } = await rawInitialize(endpoint);
    // No Origin (not a browser): the gateway grants no origin, and neither may the backend.
    const call = (id: number) =>
      rawPost(endpoint, sessionId, { jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'forger_add_note', arguments: { text: 'forged' } } }, { 'mcp-protocol-version': '2025-11-25' });
    const answered = await call(81);
    const answeredText = await answered.text();
    expect(answeredText, answeredText).toContain('"id":81');
    expect(answered.headers.get('access-control-allow-origin')).toBeNull();
    expect(answered.headers.get('x-mcp-gateway-call')).not.toBe('forged');
    // A failing answer is still settled as this call's, whatever name the backend gave it.
    forger.failCalls = 502;
    const failed = await call(82);
    expect(failed.headers.get('access-control-allow-origin')).toBeNull();
    expect(await failed.json()).toMatchObject({ id: 82, result: { isError: true, _meta: { [ERROR_META_KEY]: 'GW_UPSTREAM_UNAVAILABLE' } } });
    forger.failCalls = undefined;
    forger.answerHeaders = {};
  });

  it('answers a denied tool the caller may not see from ext_proc exactly as an unknown one, and does not list it', async () => {
    const { client } = await connectClient(endpoint);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).not.toContain('orders_create_order');
    const denied = await client.callTool({ name: 'orders_create_order', arguments: { item: 'pen', quantity: 1 } }).catch((e: Error) => e);
    const unknown = await client.callTool({ name: 'orders_no_such_tool', arguments: {} }).catch((e: Error) => e);
    expect(denied).toMatchObject({ code: -32602 });
    expect(String(denied)).toBe(String(unknown).replace('orders_no_such_tool', 'orders_create_order'));
    await client.close();
  });

  it('relays a client cancellation of a routed call to the backend running it', async () => {
    const { client } = await connectClient(endpoint);
    const abort = new AbortController();
    const cancelled = (): number => notes.reduce((sum, n) => sum + n.cancelled.count, 0);
    const before = cancelled();
    const routedBefore = await clusterStat('notes', 'upstream_rq_total');
    // 10 steps of 150 ms: within the 3 s budget, so only the relayed cancellation can stop it.
    const call = client.callTool({ name: 'notes_count_slowly', arguments: { n: 10, delayMs: 150 } }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort('user pressed stop'),
    });
    await expect(call).rejects.toThrow();
    expect(await clusterStat('notes', 'upstream_rq_total')).toBeGreaterThan(routedBefore); // it went straight to the backend
    await waitFor(() => cancelled() > before, 'the backend to see the cancellation', 5_000);
    await client.close();
  });

  it("answers a routed call that outlives its backend's timeoutMs with GW_UPSTREAM_TIMEOUT", async () => {
    // scratch answers in one JSON body when done: Envoy's router ends the wait at the budget.
    const { client } = await connectClient(endpoint);
    const r = await client.callTool({ name: 'scratch_count_slowly', arguments: { n: 20, delayMs: 1_000 } });
    expect(r.isError).toBe(true);
    expect(r._meta).toMatchObject({ [ERROR_META_KEY]: 'GW_UPSTREAM_TIMEOUT' });
    expect(JSON.stringify(r.content)).toContain('within 1000 ms');
    await client.close();
  });

  it('ends the stream of a routed call still streaming when its budget runs out', async () => {
    // notes streams (SSE) from the start, so the answer has begun when the budget runs out: Envoy
    // can only cut the stream. The call would take 20 s; the test's own timeout is 20 s.
    const { sessionId } = await rawInitialize(endpoint);
    await rawPost(endpoint, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' });
    const res = await rawPost(endpoint, sessionId, { jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'notes_count_slowly', arguments: { n: 20, delayMs: 1_000 } } });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const body = await res.text().then((text) => ({ text }), (err: unknown) => ({ err: String(err) }));
    expect(body).toEqual({ err: expect.stringContaining('terminated') });
    // The gateway records it as what it was: a timeout, not an answered call.
    const counted = async (): Promise<string[]> => (await gw.core.telemetry.metrics.scrape()).body.split('\n').filter((l) => l.startsWith('mcp_gateway_tool_calls_total{tool="notes_count_slowly"'));
    await waitFor(async () => (await counted()).some((l) => /outcome="timeout",virtual_server="default",era="session"\} [1-9]/.test(l)), 'the cut call counted as a timeout', 5_000).catch(async (err: Error) => {
      throw new Error(`${err.message}; counted: ${(await counted()).join(' | ')}`);
    });
  });

  it('serves resources, templates, prompts and completion through the broker, with policy and namespaced URIs', async () => {
    const { client } = await connectClient(endpoint);
    expect(client.getServerCapabilities()).toMatchObject({ resources: { subscribe: true }, prompts: {}, completions: {} });
    // The README is denied: neither listed nor readable.
    expect((await client.listResources()).resources.map((r) => r.uri)).toEqual([]);
    await expect(client.readResource({ uri: 'mcpgw://library/file:///README.md' })).rejects.toMatchObject({ code: -32003 });
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['mcpgw://library/file:///docs/{topic}']);
    const read = await client.readResource({ uri: 'mcpgw://library/file:///docs/intro' });
    expect(read.contents).toEqual([{ uri: 'mcpgw://library/file:///docs/intro', mimeType: 'text/plain', text: 'library on intro' }]);
    // A backend serving resources under a namespace has its tool calls carried by the broker, so links are rewritten.
    const found = await client.callTool({ name: 'library_find_doc', arguments: { topic: 'upgrade' } });
    const link = (found.content as Array<{ uri?: string }>)[0]!;
    expect(link.uri).toBe('mcpgw://library/file:///docs/upgrade');
    expect(await client.readResource({ uri: link.uri! })).toMatchObject({ contents: [{ text: 'library on upgrade' }] });
    const prompt = await client.getPrompt({ name: 'library_summarize', arguments: { topic: 'install' } });
    expect(prompt.messages[0]!.content).toEqual({ type: 'text', text: 'Summarize install (from library)' });
    const completed = await client.complete({ ref: { type: 'ref/resource', uri: 'mcpgw://library/file:///docs/{topic}' }, argument: { name: 'topic', value: 'i' } });
    expect(completed.completion.values).toEqual(['install', 'intro']);
    await client.subscribeResource({ uri: 'mcpgw://library/file:///docs/intro' });
    expect(library.subscriptions).toEqual(['+file:///docs/intro']);
    await client.close();
  });

  it("answers a body over Envoy's buffer with the JSON-RPC error, not Envoy's plain text", async () => {
    const big = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/list', params: { pad: 'x'.repeat(1_200_000) } });
    const res = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: big });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32000, data: { code: 'GW_PAYLOAD_TOO_LARGE' } } });
  });

  it("keeps health and metrics off Envoy's public listener: they are served on the admin listener only", async () => {
    const origin = new URL(endpoint).origin;
    for (const path of ['/healthz', '/metrics', '/anything-else']) {
      const res = await fetch(`${origin}${path}`);
      expect(res.status, path).toBe(404);
      expect(await res.text()).not.toContain('mcp_gateway_');
    }
    const metrics = await fetch(`${gw.adminUrl}/metrics`);
    expect(metrics.status).toBe(200);
    expect(await metrics.text()).toContain('mcp_gateway_tool_calls_total');
    expect((await fetch(`${gw.adminUrl}/healthz`)).status).toBe(200);
    // And a Host the gateway does not answer to is refused through Envoy too.
    const evil = await rawHttp(endpoint, { method: 'POST', headers: { ...MCP_HEADERS, host: 'evil.example.com' }, body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'ping' }) });
    expect(evil.status).toBe(403);
    expect(JSON.parse(evil.text).error.data.code).toBe('GW_HOST_NOT_ALLOWED');
  });

  it('fails over through outlier detection when an instance of a stateless backend dies: no call fails', async () => {
    const { client } = await connectClient(endpoint);
    await client.callTool({ name: 'scratch_list_notes', arguments: {} });
    await scratch[0]!.close();
    const failures: string[] = [];
    for (let i = 0; i < 20; i++) {
      const r = await client.callTool({ name: 'scratch_list_notes', arguments: {} });
      if (r.isError) failures.push(JSON.stringify(r.content));
    }
    expect(failures).toEqual([]);
    // Envoy retried the refused connections on the other instance, and ejected the dead one.
    expect(await clusterStat('scratch', 'upstream_rq_retry')).toBeGreaterThan(0);
    expect(await clusterStat('scratch', 'outlier_detection.ejections_enforced_total')).toBeGreaterThan(0);
    await client.close();
  });
});
