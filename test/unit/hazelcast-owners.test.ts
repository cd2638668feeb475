/**
 * Which refusal a caller's queued session creations get when they cannot be counted in time: the
 * owner lock held by the caller's own other creations is `GW_SESSION_CREATION_BUSY` (429, the store
 * is fine), a cluster that does not answer is the store's failure (503), also for the creations
 * queued behind the one that found it so. The map is a stand-in with scripted answers (a real
 * member cannot be made to hang for exactly one invocation timeout); the integration test
 * hazelcast-quota.test.ts runs the same code against a real member.
 */
import type { Client, IMap } from 'hazelcast-client';
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../src/errors.js';
import { HazelcastOwners } from '../../src/session/hazelcast-owners.js';

/** A map whose `tryLock` answers as `tryLock` says; everything else succeeds at once. */
async function ownersWith(tryLock: () => Promise<boolean>): Promise<HazelcastOwners> {
  const map = {
    addIndex: async () => undefined,
    tryLock,
    unlock: async () => undefined,
    keySetWithPredicate: async () => [],
    set: async () => undefined,
    delete: async () => undefined,
  } as unknown as IMap<string, string>;
  const client = { getMap: async () => map } as unknown as Client;
  return HazelcastOwners.open(client, 'owners', { waitMs: 100, leaseMs: 500 });
}

/** What each of `n` creations for one owner at once ended with: `created`, a gateway code, or `store`. */
async function burst(owners: HazelcastOwners, n: number): Promise<string[]> {
  return Promise.all(
    Array.from({ length: n }, (_, i) =>
      owners.within('issuer\u0000alice', `s${i}`, 10, 60_000, async () => true, async () => undefined).then(
        () => 'created',
        (err: unknown) => (err instanceof GatewayError ? err.code : 'store'),
      ),
    ),
  );
}

describe('the owner count of sessions under pressure', () => {
  it('answers the creations queued behind one that found the cluster silent as the store failing, never as busy', async () => {
    // Every lock request waits out an invocation timeout (100 ms), then fails: a cluster that does not answer.
    const owners = await ownersWith(() => new Promise((_, reject) => setTimeout(() => reject(new Error('invocation timed out')), 100)));
    expect(await burst(owners, 4)).toEqual(['store', 'store', 'store', 'store']);
  });

  it('answers a creation the caller\'s own others kept locked out as GW_SESSION_CREATION_BUSY', async () => {
    // The lock stays with someone else for the whole wait (another instance creating for the same caller).
    const owners = await ownersWith(async () => false);
    expect(await burst(owners, 2)).toEqual(['GW_SESSION_CREATION_BUSY', 'GW_SESSION_CREATION_BUSY']);
  });
});
