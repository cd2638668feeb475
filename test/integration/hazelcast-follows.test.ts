/**
 * The leases on followed backend sessions (src/session/hazelcast-follows.ts) against a real
 * Hazelcast member: an entry merely gone is written again (only one another instance holds is
 * given up), a draining instance takes nothing over, entries carry a TTL their owner refreshes,
 * a non-follower learns who follows, and a session deleted through one instance is heard by all.
 */
import { randomUUID } from 'node:crypto';
import { Client, HazelcastJsonValue, type IMap } from 'hazelcast-client';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { HazelcastFollows } from '../../src/session/hazelcast-follows.js';
import { HazelcastSessionStore } from '../../src/session/hazelcast-store.js';
import { followingKey, type Following } from '../../src/session/follow-leases.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

const logger = pino({ level: 'silent' });
const ENTRY_TTL_MS = 600_000;
let member: HazelcastHandle;
const cleanup = stopAfterEach();

beforeAll(async () => {
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
});
afterAll(async () => {
  await member?.stop();
});

async function client(): Promise<Client> {
  const c = await Client.newHazelcastClient({ clusterName: member.clusterName, network: { clusterMembers: [member.address] }, properties: { 'hazelcast.logging.level': 'OFF' } });
  cleanup(() => c.shutdown());
  return c;
}

/** One gateway instance's leases, on its own client, renewing every 200 ms. */
async function instance(mapName: string, takesOver = true): Promise<{ follows: HazelcastFollows; taken: Following[]; lost: Following[] }> {
  const follows = new HazelcastFollows({ leaseMs: 3_000, renewMs: 200, entryTtlMs: ENTRY_TTL_MS, logger });
  cleanup(() => follows.close());
  const [taken, lost]: [Following[], Following[]] = [[], []];
  if (takesOver) follows.onTakeover((f) => taken.push(f));
  follows.onLost((f) => lost.push(f));
  await follows.attach(await client(), mapName);
  return { follows, taken, lost };
}

const following = (n = 0): Following => ({ session: `s-${randomUUID()}`, backend: 'lib', backendSession: `b-${n}`, prefix: 'lib' });

async function followsMap(mapName: string): Promise<IMap<string, any>> {
  return (await client()).getMap(`${mapName}.follows`);
}

describe('leases on followed backend sessions in Hazelcast', () => {
  it('writes an entry of its own again when it is merely gone, and gives up only one another instance holds', async () => {
    const mapName = `m-${randomUUID()}`;
    const a = await instance(mapName);
    const map = await followsMap(mapName);
    const f = following();
    expect(await a.follows.claim(f)).toEqual({ mine: true });
    await map.delete(followingKey(f));
    await waitFor(async () => (await map.get(followingKey(f)))?.owner === a.follows.instance, 'the entry written again by its owner');
    expect(a.lost).toEqual([]);
    await map.set(followingKey(f), new HazelcastJsonValue(JSON.stringify({ ...f, owner: 'another-instance' })));
    await waitFor(() => a.lost.length > 0, 'the following given up');
    expect(a.lost).toEqual([f]);
    expect((await map.get(followingKey(f))).owner).toBe('another-instance');
  }, 30_000);

  it('tells a non-follower who follows, live, and leaves the follower its following', async () => {
    const mapName = `m-${randomUUID()}`;
    const [a, b] = [await instance(mapName), await instance(mapName)];
    const f = following();
    expect(await a.follows.claim(f)).toEqual({ mine: true });
    const claim = await b.follows.claim(f);
    expect(claim).toEqual({ mine: false, owner: a.follows.instance });
    await waitFor(() => b.follows.isLive(a.follows.instance), 'the follower seen live');
  }, 30_000);

  it('hands the followings of an instance that stops to the instances that stay, not to one draining, with a TTL', async () => {
    const mapName = `m-${randomUUID()}`;
    const stopping = await instance(mapName);
    const [draining, staying] = [await instance(mapName), await instance(mapName)];
    const map = await followsMap(mapName);
    const all = Array.from({ length: 20 }, (_, i) => following(i));
    for (const f of all) await stopping.follows.claim(f);
    expect(Number((await map.getEntryView(followingKey(all[0]!)))!.ttl)).toBe(ENTRY_TTL_MS);
    draining.follows.retire();
    await stopping.follows.release();
    await waitFor(() => staying.taken.length === all.length, 'every following taken over');
    expect(draining.taken).toEqual([]);
    const owners = new Set((await map.values()).toArray().map((v: any) => v.owner));
    expect([...owners]).toEqual([staying.follows.instance]);
    // The new owner pushes the entries' TTL back: they cannot outlive every instance.
    await waitFor(async () => Number((await map.getEntryView(followingKey(all[0]!)))!.ttl) === ENTRY_TTL_MS, 'the entry taken over with a TTL');
  }, 30_000);

  it('tells every instance of a session deleted through one of them', async () => {
    const mapName = `m-${randomUUID()}`;
    const open = async (): Promise<HazelcastSessionStore> => {
      const s = await HazelcastSessionStore.open({ clusterName: member.clusterName, members: [member.address], mapName, ttlMs: 60_000, invocationTimeoutMs: 1_500, logger });
      cleanup(() => s.close());
      return s;
    };
    const [a, b] = [await open(), await open()];
    const ended: string[] = [];
    a.follows.onSessionEnded((id) => ended.push(id));
    const id = randomUUID();
    await b.create({ id, principal: 'p', createdAt: Date.now(), lastSeenAt: Date.now(), backendSessions: {} } as any);
    await b.delete(id);
    await waitFor(() => ended.includes(id), 'the deletion heard on the other instance');
  }, 30_000);
});
