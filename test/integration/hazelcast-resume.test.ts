import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { parseEventId } from '../../src/events/event-id.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { startDynamicMcpServer } from '../support/dynamic-mcp.js';
import { rawInitialize, startGateway, type TestGateway } from '../support/gateway.js';
import { messagesOf, sseGet, ssePost } from '../support/sse.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

let notes: NotesServer;
let member: HazelcastHandle;
const cleanup = stopAfterEach();

beforeAll(async () => {
  notes = await startNotesServer();
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
});
afterAll(async () => {
  await member?.stop();
  await notes?.close();
});

/** A gateway whose sessions and events live in the shared member (events follow sessions by default). */
async function gateway(backends: unknown[], catalog: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName: member.clusterName, members: [member.address], invocationTimeoutMs: 1500 } },
    events: { retryMs: 50 },
    catalog,
    backends,
  });
  cleanup(() => gw.stop());
  return gw;
}

describe('streams resumed on another gateway instance (Hazelcast event store)', () => {
  it('replays a call stream cut on one instance from another, up to the result that came after the cut', async () => {
    const backends = [{ name: 'notes', kind: 'mcp', urls: [notes.url] }];
    const [a, b] = [await gateway(backends), await gateway(backends)];
    const { sessionId } = await rawInitialize(a.url);
    const cancelledBefore = notes.cancelled.count;
    const call = { jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'notes_count_slowly', arguments: { n: 6, delayMs: 100 }, _meta: { progressToken: 'p' } } };
    const post = await ssePost(a.url, sessionId, call);
    const before = await post.until((e) => messagesOf([e])[0]?.params?.progress === 2);
    post.close();
    // Resume on B at once: B follows what A keeps writing into the cluster until the result.
    const get = await sseGet(b.url, sessionId, before[before.length - 1]!.id);
    expect(get.status).toBe(200);
    const after = await get.until(() => false);
    const all = [...before, ...after];
    const messages = messagesOf(all);
    expect(messages.filter((m) => m.method === 'notifications/progress').map((m) => m.params.progress)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(messages[messages.length - 1]).toMatchObject({ id: 5, result: { content: [{ text: 'counted to 6' }] } });
    const seqs = all.map((e) => parseEventId(e.id)!.seq);
    expect(all[0]!.data).toBe(''); // the priming event
    expect(seqs).toEqual(seqs.map((_, i) => i + 1)); // no gap, no repeat
    expect(notes.cancelled.count).toBe(cancelledBefore);
  });

  it('replays on one instance the GET-stream notifications another recorded while the client was away', async () => {
    const dynamic = await startDynamicMcpServer(['alpha']);
    cleanup(() => dynamic.close());
    const backends = [{ name: 'dyn', kind: 'mcp', urls: [dynamic.url] }];
    const a = await gateway(backends, { refreshIntervalMs: 100 });
    const b = await gateway(backends, { refreshIntervalMs: 600_000 });
    const { sessionId } = await rawInitialize(a.url);
    const get = await sseGet(a.url, sessionId);
    const priming = (await get.next())!;
    get.close();
    await waitFor(() => a.core.streams.count === 0, 'A to see the disconnect');
    dynamic.toolNames.add('beta');
    await waitFor(() => a.core.catalog.current().tools.has('dyn_beta'), 'the new tool on A');

    // A writes to the cluster in the background (5 ms after a change, longer on a loaded machine):
    // resume once the notification is there, as a client reconnecting a moment later would find it.
    const stored = async (): Promise<number> => ((await (b.core.streams.log as any).store.load(parseEventId(priming.id)!.stream))?.events.length ?? 0) as number;
    await waitFor(async () => (await stored()) >= 2, 'A wrote the missed notification to the cluster');
    const resumed = await sseGet(b.url, sessionId, priming.id);
    const [missed, next] = [(await resumed.next())!, (await resumed.next())!];
    expect(JSON.parse(missed.data)).toEqual({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(parseEventId(missed.id)!.stream).toBe(parseEventId(priming.id)!.stream);
    // B goes on with a stream of its own, primed so the client's cursor moves to it.
    expect(next.data).toBe('');
    expect(parseEventId(next.id)!.stream).not.toBe(parseEventId(priming.id)!.stream);
    expect(b.core.streams.count).toBe(1);
    resumed.close();
  });

  it('does not replay another session’s stream from the cluster', async () => {
    const backends = [{ name: 'notes', kind: 'mcp', urls: [notes.url] }];
    const [a, b] = [await gateway(backends), await gateway(backends)];
    const owner = await rawInitialize(a.url);
    const post = await ssePost(a.url, owner.sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes_count_slowly', arguments: { n: 2, delayMs: 10 } } });
    const events = await post.until(() => false);
    const other = await rawInitialize(b.url);
    const get = await sseGet(b.url, other.sessionId, events[1]!.id);
    const seen = await get.during(400);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.data).toBe('');
    get.close();
  });
});
