import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HazelcastSessionStore } from '../../src/session/hazelcast-store.js';
import { ANONYMOUS, newSessionRecord, type SessionRecord } from '../../src/session/store.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../support/wait.js';
import { stopAfterEach } from '../support/cleanup.js';
import { capturingLogger } from '../support/logs.js';

const cleanup = stopAfterEach();

async function member(clusterName: string, extra: { port?: number; members?: number[] } = {}): Promise<HazelcastHandle> {
  const m = await startHazelcast({ clusterName, ...extra });
  cleanup(() => m.stop());
  return m;
}

/** A store whose log lines are kept, so a test can see what its connection went through. */
async function store(clusterName: string, members: string[], opts: { startupWaitMs?: number; connectWindowMs?: number } = {}) {
  const { logger, lines } = capturingLogger('debug');
  const s = await HazelcastSessionStore.open(
    { clusterName, members, mapName: 'sessions', ttlMs: 60_000, invocationTimeoutMs: 1_000, connectWindowMs: opts.connectWindowMs, logger },
    opts.startupWaitMs,
  );
  cleanup(() => s.close());
  const logged = (msg: string): number => lines().filter((l) => l.msg === msg).length;
  return { s, logged };
}

const record = (): SessionRecord => newSessionRecord(ANONYMOUS, '2025-11-25');

/** Whether a create goes through; a refusal must be the documented 503 error, nothing else. */
async function writable(s: HazelcastSessionStore): Promise<boolean> {
  try {
    await s.create(record());
    return true;
  } catch (err) {
    expect((err as { code?: string }).code).toBe('GW_SESSION_STORE_UNAVAILABLE');
    return false;
  }
}

const authenticatedGateways = (m: HazelcastHandle): number => (m.output().match(/successfully authenticated, clientUuid: \S+, client name: mcp-gateway@/g) ?? []).length;

describe('Hazelcast session store connection', () => {
  it('connects to every member, including those it only learns of from the cluster', { timeout: 90_000 }, async () => {
    const cluster = `gw-${randomUUID()}`;
    const first = await member(cluster);
    const second = await member(cluster, { members: [first.port] });
    await first.waitForMembers(2);
    // Only the first member is configured; the second is found through the member list. Backup
    // replicas ack writes straight to the client, so a missing connection stalls every write
    // whose backup lives on that member.
    const { s } = await store(cluster, [first.address]);
    await waitFor(async () => authenticatedGateways(first) === 1 && authenticatedGateways(second) === 1, 'the gateway to connect to both members', 10_000);
    const r = record();
    await s.create(r);
    expect((await s.get(r.id))?.id).toBe(r.id);
    // Closed, it serves nothing, not even what it cached.
    await s.close();
    expect(s.isConnected()).toBe(false);
    await expect(s.get(r.id)).rejects.toMatchObject({ code: 'GW_SESSION_STORE_UNAVAILABLE' });
  });

  it('starts without the cluster, answers 503, and connects once a member is up', { timeout: 90_000 }, async () => {
    const cluster = `gw-${randomUUID()}`;
    const port = await freePort();
    const { s, logged } = await store(cluster, [`127.0.0.1:${port}`], { startupWaitMs: 200, connectWindowMs: 1_000 });
    expect(await writable(s)).toBe(false);
    // The first client gives up after its window and a fresh one goes on trying.
    await waitFor(async () => logged('Hazelcast cluster not reachable; still trying') >= 2, 'a fresh client to replace the first', 15_000);
    await member(cluster, { port });
    await waitFor(() => writable(s), 'the store to connect', 30_000);
  });

  it('replaces a client that gave up during a long outage, and serves again when the cluster is back', { timeout: 120_000 }, async () => {
    const cluster = `gw-${randomUUID()}`;
    const port = await freePort();
    const m = await startHazelcast({ clusterName: cluster, port });
    const { s, logged } = await store(cluster, [m.address], { connectWindowMs: 1_000 });
    expect(await writable(s)).toBe(true);
    await m.stop();
    await waitFor(async () => !(await writable(s)), 'writes to be refused while the cluster is down', 10_000);
    await waitFor(async () => logged('Hazelcast cluster not reachable; still trying') >= 1, 'the client to give up and a fresh one to try', 15_000);
    await member(cluster, { port });
    await waitFor(() => writable(s), 'the store to serve again', 30_000);
  });
});
