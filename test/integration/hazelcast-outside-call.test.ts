/**
 * What a backend sends outside a call reaches the client's GET stream on whichever gateway
 * instance holds it: the subscription or call went to instance A (which follows the backend
 * session), the GET stream is on B (and C). Real Hazelcast member, real SDK backends of both eras.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import type { SseReader } from '../support/sse.js';
import { collect, getStream as getStreamOf, request, session, updatesOf } from '../support/outside-call.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

let member: HazelcastHandle;
let library: LibraryServer;
let asker: AskingServer;
let modern: ModernServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  [library, asker, modern] = await Promise.all([startLibraryServer('lib'), startAskingServer(), startModernServer()]);
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
});
afterAll(async () => {
  await member?.stop();
  await Promise.all([library?.close(), asker?.close(), modern?.close()]);
});

async function gateway(): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName: member.clusterName, members: [member.address], invocationTimeoutMs: 1500 } },
    backends: [
      { name: 'lib', kind: 'mcp', urls: [library.url] },
      { name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' },
      { name: 'modern', kind: 'mcp', urls: [modern.url] },
    ],
  });
  cleanup(() => gw.stop());
  await waitFor(() => gw.core.catalog.current().tools.has('ask_later') && gw.core.catalog.eras().get('modern') === 'stateless', 'the backends discovered', 10_000);
  return gw;
}

const getStream = (url: string, sid: string): Promise<SseReader> => getStreamOf(url, sid, cleanup);

describe('outside a call, across gateway instances', () => {
  it("a session-era backend's resource update reaches exactly one of the client's GET streams on other instances", async () => {
    const [a, b, c] = [await gateway(), await gateway(), await gateway()];
    const sid = await session(a.url);
    const [onB, onC] = [collect(await getStream(b.url, sid)), collect(await getStream(c.url, sid))];
    const readme = 'mcpgw://lib/file:///README.md';
    expect((await request(a.url, sid, 1, 'resources/subscribe', { uri: readme })).result).toEqual({});
    // The follow of the backend session starts on A once the subscription is answered: announce until it carries.
    await waitFor(
      async () => {
        await library.touch('file:///README.md');
        return updatesOf(onB, readme) + updatesOf(onC, readme) > 0;
      },
      'an update of the subscribed resource on B or C',
      10_000,
      200,
    );

    const doc = 'mcpgw://lib/file:///docs/intro';
    await library.touch('file:///docs/intro');
    await waitFor(() => updatesOf(onB, doc) + updatesOf(onC, doc) > 0, 'the one update of the document', 10_000);
    // Whatever else is on its way has time to arrive: the update went to one stream, once.
    await new Promise((r) => setTimeout(r, 500));
    expect(updatesOf(onB, doc) + updatesOf(onC, doc)).toBe(1);
    expect(a.core.streams.count).toBe(0);
  }, 60_000);

  it('a log message a backend sends after the call reaches the GET stream on another instance, at the client’s level', async () => {
    const [a, b] = [await gateway(), await gateway()];
    const sid = await session(a.url, { sampling: {} });
    const onB = collect(await getStream(b.url, sid));
    expect((await request(b.url, sid, 1, 'logging/setLevel', { level: 'warning' })).result).toEqual({});
    expect((await request(a.url, sid, 2, 'tools/call', { name: 'log_later', arguments: {} })).result.content[0].text).toBe('later');
    await waitFor(() => onB.some((m) => m.method === 'notifications/message'), 'the late log message on B', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(onB.filter((m) => m.method === 'notifications/message').map((m) => m.params.data)).toEqual(['late error']);
  }, 60_000);

  it("a stateless-era backend's resource update (its subscriptions/listen stream on A) reaches the GET stream on B once", async () => {
    const [a, b] = [await gateway(), await gateway()];
    const sid = await session(a.url);
    const onB = collect(await getStream(b.url, sid));
    const uri = (await request(a.url, sid, 1, 'resources/list', {})).result.resources.find((r: any) => r.name === 'today').uri as string;
    expect((await request(a.url, sid, 2, 'resources/subscribe', { uri })).result).toEqual({});
    // The backend acknowledges the listen stream before it delivers anything: announce until one arrives.
    await waitFor(
      () => {
        modern.updated('notes://today');
        return updatesOf(onB, uri) > 0;
      },
      'the update on the GET stream on B',
      10_000,
      200,
    );
    await new Promise((r) => setTimeout(r, 500));
    const before = updatesOf(onB, uri);
    modern.updated('notes://today');
    await waitFor(() => updatesOf(onB, uri) > before, 'one more update on B', 10_000);
    await new Promise((r) => setTimeout(r, 500));
    expect(updatesOf(onB, uri)).toBe(before + 1);
  }, 60_000);

  it("a backend's sampling request after the call reaches the client on B, and the client's answer the backend", async () => {
    const [a, b] = [await gateway(), await gateway()];
    const sid = await session(a.url, { sampling: {} });
    const onB = collect(await getStream(b.url, sid));
    expect((await request(a.url, sid, 1, 'tools/call', { name: 'ask_later', arguments: {} })).result.content[0].text).toBe('asked later');
    await waitFor(() => onB.some((m) => m.method === 'sampling/createMessage'), 'the late request on B', 10_000);
    const asked = onB.find((m) => m.method === 'sampling/createMessage')!;
    expect(String(asked.id)).toMatch(/^gw-relay-/);
    const answer = await rawPost(b.url, sid, { jsonrpc: '2.0', id: asked.id, result: { model: 'm-b', role: 'assistant', content: { type: 'text', text: 'answered from B' } } });
    expect(answer.status).toBe(202);
    await waitFor(() => asker.late.includes('answered from B'), 'the answer at the backend', 10_000);
    expect(onB.filter((m) => m.method === 'sampling/createMessage')).toHaveLength(1);
  }, 60_000);

  it('a backend that asks while the client holds no GET stream on any instance gets GW_RELAY_NO_STREAM', async () => {
    const [a] = [await gateway(), await gateway()];
    const sid = await session(a.url, { sampling: {} });
    const failed = asker.failures.length;
    expect((await request(a.url, sid, 1, 'tools/call', { name: 'ask_later', arguments: {} })).result.content[0].text).toBe('asked later');
    await waitFor(() => asker.failures.length > failed, 'the backend told', 15_000);
    expect(asker.failures.slice(failed).join()).toContain('no stream open');
  }, 60_000);
});
