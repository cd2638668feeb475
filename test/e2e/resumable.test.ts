import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CallToolResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { parseEventId } from '../../src/events/event-id.js';
import { startDynamicMcpServer } from '../support/dynamic-mcp.js';
import { startConformanceBackend } from '../conformance/backend.js';
import { rawInitialize, startGateway, type TestGateway } from '../support/gateway.js';
import { messagesOf, sseGet, ssePost } from '../support/sse.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

let notes: NotesServer;
let gw: TestGateway;
const cleanup = stopAfterEach();

beforeAll(async () => {
  notes = await startNotesServer();
  gw = await startGateway({ events: { retryMs: 50 }, backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }] });
});
afterAll(async () => {
  await gw?.stop();
  await notes?.close();
});

/** count_slowly's whole stream: progress and a log line per step, then the result. */
function expectedCount(n: number, requestId: number): unknown[] {
  const out: unknown[] = [];
  for (let i = 1; i <= n; i++) {
    out.push({ method: 'notifications/progress', params: { progressToken: 'p', progress: i, total: n } });
    out.push({ method: 'notifications/message', params: { level: 'info', data: `step ${i} of ${n}` } });
  }
  out.push({ id: requestId, result: { content: [{ type: 'text', text: `counted to ${n}` }] } });
  return out;
}

const countSlowly = (id: number, n: number, delayMs: number) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name: 'notes_count_slowly', arguments: { n, delayMs }, _meta: { progressToken: 'p' } },
});

describe('a call stream cut mid-way (raw HTTP)', () => {
  it('is resumed with GET + Last-Event-ID: exactly the missed events, then the result that came after the disconnect', async () => {
    const { sessionId } = await rawInitialize(gw.url);
    const cancelledBefore = notes.cancelled.count;
    const post = await ssePost(gw.url, sessionId, countSlowly(7, 6, 80));
    expect(post.headers.get('content-type')).toBe('text/event-stream');
    const priming = (await post.next())!;
    expect(priming.data).toBe('');
    expect(parseEventId(priming.id)).toMatchObject({ seq: 1 });
    const before = await post.until((e) => messagesOf([e])[0]?.params?.progress === 2);
    post.close(); // the network drops: the call goes on without its client
    await new Promise((r) => setTimeout(r, 250)); // events the client misses
    const last = before[before.length - 1]!.id!;
    const get = await sseGet(gw.url, sessionId, last);
    expect(get.status).toBe(200);
    const after = await get.until(() => false); // the gateway ends it after the response
    const all = [...before, ...after];
    expect(messagesOf(all)).toMatchObject(expectedCount(6, 7));
    // One stream, numbered without gaps or repeats.
    const ids = all.map((e) => parseEventId(e.id)!);
    expect(new Set(ids.map((c) => c.stream))).toEqual(new Set([parseEventId(priming.id)!.stream]));
    expect(ids.map((c) => c.seq)).toEqual(ids.map((_, i) => i + 2));
    expect(notes.cancelled.count).toBe(cancelledBefore); // a disconnect is not a cancellation
  });

  it('stops a call the client left running when it sends notifications/cancelled', async () => {
    const { sessionId } = await rawInitialize(gw.url);
    const before = notes.cancelled.count;
    const post = await ssePost(gw.url, sessionId, countSlowly(21, 20, 50));
    await post.until((e) => e.data !== '');
    post.close();
    await new Promise((r) => setTimeout(r, 150));
    expect(notes.cancelled.count).toBe(before); // still running without its client
    const cancel = await fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId },
      body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 21, reason: 'user pressed stop' } }),
    });
    expect(cancel.status).toBe(202);
    await waitFor(() => notes.cancelled.count > before, 'the backend to see the cancellation', 5_000);
  });

  it('still cancels the call of a client that disconnects before it holds an event id (JSON only)', async () => {
    const { sessionId } = await rawInitialize(gw.url);
    const before = notes.cancelled.count;
    const abort = new AbortController();
    const call = fetch(gw.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json', 'mcp-session-id': sessionId },
      body: JSON.stringify(countSlowly(1, 20, 50)),
      signal: abort.signal,
    });
    await new Promise((r) => setTimeout(r, 150));
    abort.abort();
    await expect(call).rejects.toThrow();
    await waitFor(() => notes.cancelled.count > before, 'the backend to see the cancellation', 5_000);
  });

  it('gives clients of older revisions event ids but no priming event', async () => {
    const { sessionId } = await rawInitialize(gw.url, '2025-06-18');
    const post = await ssePost(gw.url, sessionId, countSlowly(3, 2, 10), { 'mcp-protocol-version': '2025-06-18' });
    const events = await post.until(() => false);
    expect(events.every((e) => e.data !== '' && parseEventId(e.id) !== undefined)).toBe(true);
    expect(messagesOf(events)).toMatchObject(expectedCount(2, 3));
  });
});

describe('events.store: off', () => {
  it('sends no ids and no priming event, and a disconnect cancels the call as before', async () => {
    const off = await startGateway({ events: { store: 'off' }, backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }] });
    cleanup(() => off.stop());
    const { sessionId } = await rawInitialize(off.url);
    const whole = await ssePost(off.url, sessionId, countSlowly(1, 2, 10));
    const events = await whole.until(() => false);
    expect(events.every((e) => e.id === undefined && e.data !== '')).toBe(true);
    expect(messagesOf(events)).toMatchObject(expectedCount(2, 1));
    const before = notes.cancelled.count;
    const cut = await ssePost(off.url, sessionId, countSlowly(2, 20, 50));
    await cut.next();
    cut.close();
    await waitFor(() => notes.cancelled.count > before, 'the backend to see the cancellation', 5_000);
    const get = await sseGet(off.url, sessionId);
    expect(await get.during(200)).toEqual([]); // no priming event on GET streams either
    get.close();
  });
});

describe('the session GET stream', () => {
  it('replays the notifications sent while the client was disconnected, on the same stream', async () => {
    const dynamic = await startDynamicMcpServer(['alpha']);
    cleanup(() => dynamic.close());
    const gw2 = await startGateway({ catalog: { refreshIntervalMs: 100 }, backends: [{ name: 'dyn', kind: 'mcp', urls: [dynamic.url] }] });
    cleanup(() => gw2.stop());
    const { sessionId } = await rawInitialize(gw2.url);
    const get = await sseGet(gw2.url, sessionId);
    const priming = (await get.next())!;
    expect(priming.data).toBe('');
    get.close();
    await waitFor(() => gw2.core.streams.count === 0, 'the gateway to see the disconnect');
    dynamic.toolNames.add('beta');
    await waitFor(() => gw2.core.catalog.current().tools.has('dyn_beta'), 'the new tool in the catalog');

    const resumed = await sseGet(gw2.url, sessionId, priming.id);
    const missed = (await resumed.next())!;
    expect(JSON.parse(missed.data)).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(parseEventId(missed.id)).toEqual({ stream: parseEventId(priming.id)!.stream, seq: 2 });
    // The resumed stream is live again: the next change arrives on it.
    dynamic.toolNames.add('gamma');
    const next = (await resumed.next())!;
    expect(parseEventId(next.id)).toEqual({ stream: parseEventId(priming.id)!.stream, seq: 3 });
    resumed.close();
  });

  it('refuses a foreign session’s event id: nothing of it is replayed, the caller gets a fresh stream of its own', async () => {
    const owner = await rawInitialize(gw.url);
    const post = await ssePost(gw.url, owner.sessionId, countSlowly(11, 3, 10));
    const secret = await post.until(() => false);
    const stolen = secret[secret.length - 2]!.id!; // events after it: the result
    const other = await rawInitialize(gw.url);
    const get = await sseGet(gw.url, other.sessionId, stolen);
    expect(get.status).toBe(200);
    const events = await get.during(300);
    expect(events).toHaveLength(1); // the priming event of a new stream, nothing else
    expect(events[0]!.data).toBe('');
    expect(parseEventId(events[0]!.id)!.stream).not.toBe(parseEventId(stolen)!.stream);
    get.close();
    const resumes = async (result: string): Promise<number> => {
      const text = await (await fetch(new URL('/metrics', gw.url))).text();
      return Number(new RegExp(`^mcp_gateway_stream_resumes_total\\{result="${result}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0);
    };
    const [freshBefore, replayedBefore] = [await resumes('fresh'), await resumes('replayed')];
    expect(freshBefore).toBeGreaterThanOrEqual(1);
    // The owner may resume it.
    const own = await sseGet(gw.url, owner.sessionId, stolen);
    expect(messagesOf(await own.until(() => false))).toMatchObject([{ id: 11, result: { content: [{ text: 'counted to 3' }] } }]);
    expect(await resumes('replayed')).toBe(replayedBefore + 1);
    expect(await resumes('fresh')).toBe(freshBefore);
  });

  it('opens a fresh stream for an id the gateway never issued', async () => {
    const { sessionId } = await rawInitialize(gw.url);
    const get = await sseGet(gw.url, sessionId, 'not-an-event-id');
    expect(get.status).toBe(200);
    expect((await get.next())!.data).toBe('');
    get.close();
  });
});

describe('a backend that closes its stream mid-call (SSE polling, SEP-1699)', () => {
  it('is resumed by the gateway with GET + Last-Event-ID: the client gets the result on its own stream', async () => {
    const backend = await startConformanceBackend();
    cleanup(() => backend.close());
    const gw3 = await startGateway({ backends: [{ name: 'everything', kind: 'mcp', urls: [backend.url], prefix: '' }] });
    cleanup(() => gw3.stop());
    await waitFor(() => gw3.core.catalog.current().tools.has('test_reconnection'), 'the backend tools discovered', 15_000);
    const { sessionId } = await rawInitialize(gw3.url);
    const post = await ssePost(gw3.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'test_reconnection', arguments: {} } });
    const messages = messagesOf(await post.until(() => false));
    expect(messages[0]).toMatchObject({ method: 'notifications/message', params: { data: 'closing the stream; reconnect to get the result' } });
    expect(messages[messages.length - 1]).toMatchObject({ id: 1, result: { content: [{ type: 'text', text: 'Reconnection test finished.' }] } });
    expect(messages[messages.length - 1].result.isError).toBeUndefined();
  });
});

/** A fetch that lets the first `keep` SSE events of the first tools/call answer through, then fails the body as a dropped connection would. */
function droppingFetch(keep: number, resumes: string[] = []): typeof fetch {
  let armed = true;
  return async (input, init) => {
    const lastEventId = new Headers(init?.headers).get('last-event-id');
    if (lastEventId) resumes.push(lastEventId);
    const res = await fetch(input, init);
    const isCall = init?.method === 'POST' && typeof init.body === 'string' && init.body.includes('"tools/call"');
    if (!armed || !isCall || !res.body || !res.headers.get('content-type')?.startsWith('text/event-stream')) return res;
    armed = false;
    const source = res.body.getReader();
    const decoder = new TextDecoder();
    let seen = 0;
    const body = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (seen >= keep) {
          await source.cancel();
          controller.error(new TypeError('network connection lost'));
          return;
        }
        const { value, done } = await source.read();
        if (done) return controller.close();
        seen += decoder.decode(value, { stream: true }).split('\n\n').length - 1;
        controller.enqueue(value);
      },
    });
    return new Response(body, { status: res.status, headers: res.headers });
  };
}

describe('the official SDK client', () => {
  it('resumes a dropped call stream by itself and gets every progress step once, and the result', async () => {
    const resumes: string[] = [];
    const transport = new StreamableHTTPClientTransport(new URL(gw.url), { fetch: droppingFetch(4, resumes) });
    const client = new Client({ name: 'resuming', version: '1.0.0' });
    await client.connect(transport);
    const cancelledBefore = notes.cancelled.count;
    const progress: number[] = [];
    const result = await client.callTool({ name: 'notes_count_slowly', arguments: { n: 6, delayMs: 80 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect((result.content as Array<{ text: string }>)[0]!.text).toBe('counted to 6');
    expect(progress).toEqual([1, 2, 3, 4, 5, 6]);
    expect(resumes).toHaveLength(1); // it did drop, and one GET + Last-Event-ID brought the rest
    expect(parseEventId(resumes[0])!.seq).toBeGreaterThanOrEqual(3);
    expect(notes.cancelled.count).toBe(cancelledBefore);
    await client.close();
  });

  it('lets a new client resume a call with the resumption token the first one kept', async () => {
    const first = new StreamableHTTPClientTransport(new URL(gw.url), { fetch: droppingFetch(3), reconnectionOptions: { initialReconnectionDelay: 10, maxReconnectionDelay: 10, reconnectionDelayGrowFactor: 1, maxRetries: 0 } });
    const client1 = new Client({ name: 'first', version: '1.0.0' });
    await client1.connect(first);
    let token: string | undefined;
    const params = { name: 'notes_count_slowly', arguments: { n: 5, delayMs: 80 } };
    const pending = client1.request({ method: 'tools/call', params }, CallToolResultSchema, { onresumptiontoken: (t) => (token = t) }).catch(() => undefined);
    await waitFor(() => token !== undefined && parseEventId(token)!.seq >= 3, 'a resumption token');
    await new Promise((r) => setTimeout(r, 100));
    await client1.close(); // the first client goes away with the call unanswered
    await pending;

    const resumes: string[] = [];
    const second = new StreamableHTTPClientTransport(new URL(gw.url), { sessionId: first.sessionId, fetch: droppingFetch(0, resumes) });
    const client2 = new Client({ name: 'second', version: '1.0.0' });
    await client2.connect(second);
    const result = await client2.request({ method: 'tools/call', params }, CallToolResultSchema, { resumptionToken: token, onresumptiontoken: (t) => (token = t) });
    expect((result.content as Array<{ text: string }>)[0]!.text).toBe('counted to 5');
    expect(resumes).toHaveLength(1); // the result came on the resumed stream, not from a second call
    await client2.close();
  });
});
