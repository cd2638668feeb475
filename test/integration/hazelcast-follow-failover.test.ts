/**
 * Following a backend session survives the gateway instance that followed it: a client subscribed
 * through instance A, its GET stream is on B; A stops (gracefully, or killed with SIGKILL) and the
 * backend's next resource update still reaches B's stream, once. Real Hazelcast member, a real
 * SDK backend, and for the hard stop a real gateway process.
 */
import { randomUUID } from 'node:crypto';
import { Client } from 'hazelcast-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startGatewayProcess } from '../support/cli-process.js';
import { configFile } from '../support/cli.js';
import { collect, getStream, request, session, updatesOf } from '../support/outside-call.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

let member: HazelcastHandle;
let library: LibraryServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  library = await startLibraryServer('lib');
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
});
afterAll(async () => {
  await member?.stop();
  await library?.close();
});

/** What every instance is configured with: the shared cluster, one session-era backend. */
function config(): Record<string, unknown> {
  return {
    sessions: { store: 'hazelcast', hazelcast: { clusterName: member.clusterName, members: [member.address], invocationTimeoutMs: 1500 } },
    backends: [{ name: 'lib', kind: 'mcp', urls: [library.url] }],
  };
}

/** An in-process instance; `stop` is the test's to call when it stops it itself. */
async function gateway(stoppedByTest = false): Promise<TestGateway> {
  const gw = await startGateway(config());
  if (!stoppedByTest) cleanup(() => gw.stop());
  await waitFor(() => gw.core.catalog.current().tools.has('lib_find_doc'), 'the backend discovered', 10_000);
  return gw;
}

const README = 'mcpgw://lib/file:///README.md';

/** Subscribe through `via`, then announce until an update reaches the stream collected in `seen` (the follow starts once the subscription is answered). */
async function subscribed(via: string, sid: string, seen: any[]): Promise<void> {
  await waitFor(async () => (await request(via, sid, 1, 'resources/subscribe', { uri: README })).result !== undefined, 'the subscription through the first instance', 15_000, 250);
  await announced(seen, 'an update while the first instance follows');
}

/**
 * Announce changes of documents never announced before until one reaches `seen`: only a follower
 * in place since the first of them can have delivered it (not an update still on its way).
 */
async function announced(seen: any[], what: string, timeoutMs = 10_000): Promise<void> {
  const touched = new Set<string>();
  await waitFor(
    async () => {
      const path = `file:///docs/${randomUUID()}`;
      touched.add(`mcpgw://lib/${path}`);
      await library.touch(path);
      return seen.some((m) => m.method === 'notifications/resources/updated' && touched.has(m.params?.uri));
    },
    what,
    timeoutMs,
    200,
  );
}

/** One more update of a document reaches `seen` exactly once. */
async function deliveredOnce(seen: any[]): Promise<void> {
  const doc = `mcpgw://lib/file:///docs/${randomUUID()}`;
  await library.touch(doc.slice('mcpgw://lib/'.length));
  await waitFor(() => updatesOf(seen, doc) > 0, 'the update of the document', 10_000);
  // Whatever else is on its way has time to arrive: a second follower would deliver it twice.
  await new Promise((r) => setTimeout(r, 500));
  expect(updatesOf(seen, doc)).toBe(1);
}

describe('following a backend session across a stop of its follower', () => {
  it('another instance takes over when the follower stops gracefully, within a couple of seconds', async () => {
    const a = await gateway(true);
    const [b, c] = [await gateway(), await gateway()];
    const sid = await session(a.url);
    const onB = collect(await getStream(b.url, sid, cleanup));
    try {
      await subscribed(a.url, sid, onB);
    } finally {
      await a.stop();
    }
    await announced(onB, 'an update after the follower stopped', 5_000);
    await deliveredOnce(onB);
    expect(c.core.streams.count + b.core.streams.count).toBe(1);
  }, 60_000);

  it('another instance takes over when the follower is killed (SIGKILL), once its lease expired', async () => {
    const file = await configFile(JSON.stringify({ logging: { level: 'info' }, audit: { sink: 'off' }, ...config() }));
    const killed = await startGatewayProcess(file, {}, ['--host', '127.0.0.1', '--port', '0']);
    cleanup(() => {
      if (killed.child.exitCode === null) killed.child.kill('SIGKILL');
    });
    const b = await gateway();
    const sid = await session(killed.url);
    const onB = collect(await getStream(b.url, sid, cleanup));
    await subscribed(killed.url, sid, onB);
    killed.child.kill('SIGKILL');
    await killed.exited;
    // The lease is 3 × invocationTimeoutMs (4.5 s), looked at every 1.5 s.
    await announced(onB, 'an update after the follower was killed', 20_000);
    await deliveredOnce(onB);
  }, 60_000);

  it('a following no longer wanted (the session deleted) is given up, not taken over', async () => {
    const hz = await Client.newHazelcastClient({ clusterName: member.clusterName, network: { clusterMembers: [member.address] }, properties: { 'hazelcast.logging.level': 'OFF' } });
    cleanup(() => hz.shutdown());
    const follows = await hz.getMap<string, unknown>('mcp-gateway-sessions.follows');
    const followingsOf = async (sid: string): Promise<number> => (await follows.keySet()).filter((k) => k.startsWith(`${sid}\u0000`)).length;
    const a = await gateway(true);
    const b = await gateway();
    const sid = await session(a.url);
    const onB = collect(await getStream(b.url, sid, cleanup));
    try {
      await subscribed(a.url, sid, onB);
      expect(await followingsOf(sid)).toBe(1);
      const deleted = await fetch(b.url, { method: 'DELETE', headers: { 'mcp-session-id': sid } });
      expect(deleted.status).toBe(204);
    } finally {
      await a.stop();
    }
    await waitFor(async () => (await followingsOf(sid)) === 0, 'the following given up', 10_000, 250);
  }, 60_000);
});
