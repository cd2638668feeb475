/**
 * A stateless client's `subscriptions/listen` streams on several gateway instances: every stream
 * whose filter names a resource gets each of its updates once, with its own subscription id,
 * whichever instance the backend sends the update to. A session-era backend sends it on the one
 * backend session of the caller's held record, which one instance follows (the others hear it
 * through Hazelcast); a stateless-era backend sends it on each instance's own listen stream.
 * Real Hazelcast member, real SDK backends of both eras, raw HTTP clients.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { messagesOf, sseStateless, type SseReader } from '../support/sse.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

const KEY_ENV = 'GW_TEST_LISTEN_KEY';
const SUBSCRIPTION_ID = 'io.modelcontextprotocol/subscriptionId';
let member: HazelcastHandle;
let library: LibraryServer;
let modern: ModernServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  // Every instance must compute the same held record for the caller.
  process.env[KEY_ENV] = 'one secret shared by every instance of this test';
  [library, modern] = await Promise.all([startLibraryServer('lib'), startModernServer()]);
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
});
afterAll(async () => {
  delete process.env[KEY_ENV];
  await member?.stop();
  await Promise.all([library?.close(), modern?.close()]);
});

async function gateway(): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName: member.clusterName, members: [member.address], invocationTimeoutMs: 1500 } },
    stateless: { stateKey: { env: KEY_ENV } },
    backends: [
      { name: 'lib', kind: 'mcp', urls: [library.url] },
      { name: 'modern', kind: 'mcp', urls: [modern.url] },
    ],
  });
  cleanup(() => gw.stop());
  const resources = (): any[] => [...gw.core.catalog.current().resources.values()];
  await waitFor(() => resources().some((r) => r.backend === 'lib') && resources().some((r) => r.backend === 'modern') && gw.core.catalog.eras().get('modern') === 'stateless', 'the backends discovered', 10_000);
  return gw;
}

/** A listen stream on `url` asking for `uris`, past its acknowledgement (which must honour them all); what arrives next, collected. */
async function listen(url: string, id: string, uris: string[]): Promise<any[]> {
  const stream: SseReader = await sseStateless(url, { id, method: 'subscriptions/listen', params: { notifications: { resourceSubscriptions: uris } } });
  cleanup(async () => stream.close());
  expect(stream.status).toBe(200);
  const [ack] = messagesOf(await stream.until((e) => e.data !== ''));
  expect(ack).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { resourceSubscriptions: uris }, _meta: { [SUBSCRIPTION_ID]: id } } });
  const seen: any[] = [];
  void (async () => {
    for (let e = await stream.next(); e; e = await stream.next()) seen.push(...messagesOf([e]));
  })().catch(() => undefined);
  return seen;
}

const updatesOf = (seen: any[], uri: string): any[] => seen.filter((m) => m.method === 'notifications/resources/updated' && m.params?.uri === uri);

/**
 * Announce a change until every stream heard one (the follow of a backend session starts only once
 * its subscription is answered, and what the backend sends before is lost), then once more: each
 * stream gets that one once, tagged with its own subscription id.
 */
async function eachHearsOnce(announce: () => unknown, uri: string, streams: Record<string, any[]>): Promise<void> {
  await waitFor(
    async () => {
      await announce();
      return Object.values(streams).every((s) => updatesOf(s, uri).length > 0);
    },
    `an update of ${uri} on every listen stream`,
    10_000,
    200,
  );
  // Whatever else is on its way has time to arrive before counting.
  await new Promise((r) => setTimeout(r, 500));
  const before = Object.fromEntries(Object.entries(streams).map(([id, s]) => [id, updatesOf(s, uri).length]));
  await announce();
  await waitFor(() => Object.entries(streams).every(([id, s]) => updatesOf(s, uri).length > before[id]!), `the next update of ${uri} on every listen stream`, 10_000);
  await new Promise((r) => setTimeout(r, 500));
  for (const [id, s] of Object.entries(streams)) {
    expect(updatesOf(s, uri).length, `updates on ${id}`).toBe(before[id]! + 1);
    expect(new Set(updatesOf(s, uri).map((m) => m.params._meta[SUBSCRIPTION_ID]))).toEqual(new Set([id]));
  }
}

describe('subscriptions/listen across gateway instances', () => {
  it("a session-era backend's resource update reaches every listen stream that asked for it, on every instance, once", async () => {
    const [a, b] = [await gateway(), await gateway()];
    const readme = 'mcpgw://lib/file:///README.md';
    const intro = 'mcpgw://lib/file:///docs/intro';
    const onA = await listen(a.url, 'on-a', [readme]);
    const onB = await listen(b.url, 'on-b', [readme]);
    const otherOnB = await listen(b.url, 'other-on-b', [intro]);
    await eachHearsOnce(() => library.touch('file:///README.md'), readme, { 'on-a': onA, 'on-b': onB });
    expect(updatesOf(otherOnB, readme)).toEqual([]);
  }, 60_000);

  it("a stateless-era backend's resource update (each instance's own listen stream at the backend) reaches every listen stream once", async () => {
    const [a, b] = [await gateway(), await gateway()];
    const today = [...a.core.catalog.current().resources.values()].find((r) => r.backend === 'modern' && r.definition.name === 'today')!.uri as string;
    const onA = await listen(a.url, 'on-a', [today]);
    const onB = await listen(b.url, 'on-b', [today]);
    const readmeOnB = await listen(b.url, 'readme-on-b', ['mcpgw://lib/file:///README.md']);
    await eachHearsOnce(() => modern.updated('notes://today'), today, { 'on-a': onA, 'on-b': onB });
    expect(updatesOf(readmeOnB, today)).toEqual([]);
  }, 60_000);
});
