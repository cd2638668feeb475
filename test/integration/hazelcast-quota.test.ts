import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { stopAfterEach } from '../support/cleanup.js';

// One member for the whole file (a member takes long to start on a loaded machine); each test
// keeps its sessions in a map of its own, so each starts with a caller holding none.
let member: HazelcastHandle;
const cleanup = stopAfterEach();

beforeAll(async () => {
  member = await startHazelcast({ clusterName: `quota-${randomUUID()}` });
}, 120_000);
afterAll(async () => {
  await member?.stop();
});

/** Two gateway instances on the member, sharing one session map; every caller (anonymous, one address) may hold 3 sessions. */
async function twoInstances(ttlSeconds = 60, invocationTimeoutMs = 5_000): Promise<[TestGateway, TestGateway]> {
  const mapName = `sessions-${randomUUID()}`;
  const start = async (): Promise<TestGateway> => {
    const gw = await startGateway({
      sessions: { store: 'hazelcast', maxPerPrincipal: 3, ttlSeconds, hazelcast: { clusterName: member.clusterName, members: [member.address], mapName, invocationTimeoutMs } },
      backends: [],
    });
    cleanup(() => gw.stop());
    return gw;
  };
  return [await start(), await start()];
}

const initialize = (url: string) =>
  rawPost(url, undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'quota', version: '1' } } });

/** A session id, or the code of the refusal. */
async function sessionOrRefusal(url: string): Promise<string> {
  const res = await initialize(url);
  if (res.status === 200) {
    await res.body?.cancel();
    return res.headers.get('mcp-session-id')!;
  }
  expect(res.status).toBe(429);
  return (await jsonOf(res)).error.data.code as string;
}

const ping = (url: string, sid: string) => rawPost(url, sid, { jsonrpc: '2.0', id: 2, method: 'ping' });

describe('sessions.maxPerPrincipal with Hazelcast', () => {
  it('counts a caller\'s sessions across every instance, and frees a place when one is deleted elsewhere', async () => {
    const [a, b] = await twoInstances();
    const ids = [await sessionOrRefusal(a.url), await sessionOrRefusal(b.url), await sessionOrRefusal(a.url)];
    for (const id of ids) expect(id).not.toBe('GW_TOO_MANY_SESSIONS');
    // Counted per instance, A held 2 and B 1: both would let a fourth in.
    expect(await sessionOrRefusal(a.url)).toBe('GW_TOO_MANY_SESSIONS');
    expect(await sessionOrRefusal(b.url)).toBe('GW_TOO_MANY_SESSIONS');

    // A session A created, ended through B: A lets a new one in, and then no more.
    expect((await fetch(b.url, { method: 'DELETE', headers: { 'mcp-session-id': ids[0]! } })).status).toBe(204);
    const replacement = await sessionOrRefusal(a.url);
    expect(replacement).not.toBe('GW_TOO_MANY_SESSIONS');
    expect((await ping(b.url, replacement)).status).toBe(200);
    expect(await sessionOrRefusal(b.url)).toBe('GW_TOO_MANY_SESSIONS');
    expect(await a.core.sessions.size()).toBe(3);
  });

  it('lets exactly the limit through when one caller initializes on both instances at once', async () => {
    const [a, b] = await twoInstances();
    const outcomes = await Promise.all(Array.from({ length: 10 }, (_, i) => sessionOrRefusal(i % 2 ? a.url : b.url)));
    const created = outcomes.filter((o) => o !== 'GW_TOO_MANY_SESSIONS');
    expect(created).toHaveLength(3);
    expect(await a.core.sessions.size()).toBe(3);
    for (const id of created) expect((await ping(a.url, id)).status).toBe(200);
  });

  it('answers a burst that outlasts the count\'s lock with 429 GW_SESSION_CREATION_BUSY, never as a store outage', async () => {
    // 300 ms for the lock: 400 initialize requests of one caller at once (each holds the lock for a
    // few round trips: lock, count, the limit's liveness checks, unlock) queue for about a second,
    // while each store operation alone stays well within 300 ms.
    const [a, b] = await twoInstances(60, 300);
    const statuses = await Promise.all(
      Array.from({ length: 400 }, async (_, i) => {
        const res = await initialize(i % 2 ? a.url : b.url);
        if (res.status === 200) return (await res.body?.cancel(), 'created');
        const body = await jsonOf(res);
        // The refusal answers this request: its JSON-RPC id is kept.
        return `${res.status} ${body.error.data.code}${body.id === 1 ? '' : ' without its id'}`;
      }),
    );
    const counts = Object.fromEntries([...new Set(statuses)].map((s) => [s, statuses.filter((x) => x === s).length]));
    expect(Object.keys(counts).filter((s) => !['created', '429 GW_TOO_MANY_SESSIONS', '429 GW_SESSION_CREATION_BUSY'].includes(s)), JSON.stringify(counts)).toEqual([]);
    expect(counts['429 GW_SESSION_CREATION_BUSY'] ?? 0, JSON.stringify(counts)).toBeGreaterThan(0);
    expect(counts.created ?? 0, JSON.stringify(counts)).toBeLessThanOrEqual(3);
  });

  it('keeps counting a session as long as it is used, and stops counting expired ones', async () => {
    const [a, b] = await twoInstances(2);
    const [busy, idle1, idle2] = [await sessionOrRefusal(a.url), await sessionOrRefusal(b.url), await sessionOrRefusal(a.url)];
    expect(await sessionOrRefusal(b.url)).toBe('GW_TOO_MANY_SESSIONS');
    // Used on either instance past several TTLs, `busy` lives on (and so must its count); the idle two expire.
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 500));
      expect((await ping(i % 2 ? a.url : b.url, busy)).status).toBe(200);
    }
    for (const idle of [idle1, idle2]) expect((await ping(a.url, idle)).status).toBe(404);
    const fresh = [await sessionOrRefusal(b.url), await sessionOrRefusal(a.url)];
    for (const id of fresh) expect(id).not.toBe('GW_TOO_MANY_SESSIONS');
    expect(await sessionOrRefusal(b.url)).toBe('GW_TOO_MANY_SESSIONS');
  }, 60_000);
});
