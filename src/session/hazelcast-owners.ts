import { Predicates, type Client, type IMap } from 'hazelcast-client';
import { GatewayError } from '../errors.js';

/** How long an owner's cluster lock may be waited for, and how long it is held at most. */
export interface OwnerLockTimes {
  /** Longest wait for the lock, this process's own queue included (then the store is unavailable). */
  readonly waitMs: number;
  /** The lock frees itself after this long, should its holder never unlock it (a frozen instance). */
  readonly leaseMs: number;
}

/**
 * The cluster-wide count behind `sessions.maxPerPrincipal`: a map beside the sessions
 * (`<mapName>.owners`) with one entry per counted session, keyed by its id, whose value is its
 * owner (SessionQuota.owner), with a hash index on the value so counting an owner is an index
 * lookup. Each entry lives as long as its session: written with it, touched with it (with one
 * touch interval more, so it never expires first), deleted with it. An entry that outlives its
 * session (an instance died between the two deletes) only counts until the owner reaches the
 * limit, when entries whose session is gone are dropped.
 *
 * Count and create run under a cluster lock on the owner (IMap.tryLock on the owner's key, which
 * no session id can equal: owners hold a NUL), so two instances never both pass at `max - 1`.
 * Hazelcast frees the locks of a client that died; a lease bounds one whose holder froze. The
 * Node.js client shares one lock ownership among all its callers, so within one process the
 * owner's creations also queue locally.
 */
export class HazelcastOwners {
  /** This process's creations in progress, by owner (the cluster lock cannot keep them apart). */
  private readonly queues = new Map<string, Promise<boolean>>();

  private constructor(
    private readonly map: IMap<string, string>,
    private readonly lock: OwnerLockTimes,
  ) {}

  /** The map, with its index on owners (adding the same index again changes nothing). */
  static async open(client: Client, name: string, lock: OwnerLockTimes): Promise<HazelcastOwners> {
    const map = await client.getMap<string, string>(name);
    await map.addIndex({ type: 'HASH', attributes: ['this'] });
    return new HazelcastOwners(map, lock);
  }

  /**
   * Count session `id` for `owner` and run `create`, unless the owner holds `max` sessions that
   * `isLive` confirms; false then. The entry is written first, so a session never exists uncounted.
   */
  within(owner: string, id: string, max: number, ttlMs: number, isLive: (id: string) => Promise<boolean>, create: () => Promise<void>): Promise<boolean> {
    const queuedAt = Date.now();
    return this.serially(owner, async (storeFailedBefore) => {
      const waitMs = this.lock.waitMs - (Date.now() - queuedAt);
      // The wait went on the creations queued here before this one: when the last of them found the
      // cluster unreachable, so is it for this one (the caller of `within` answers that as the store's
      // failure), not a queue of the caller's own making.
      if (waitMs <= 0 && storeFailedBefore) throw new Error('the cluster did not answer the creations queued before this one');
      // The owner's earlier creations (here or on another instance) held the lock all along: the
      // store answers, the caller creates sessions faster than they can be counted one by one.
      if (waitMs <= 0 || !(await this.map.tryLock(owner, waitMs, this.lock.leaseMs))) {
        throw new GatewayError('GW_SESSION_CREATION_BUSY', `the session count of this caller stayed locked for ${this.lock.waitMs} ms by its other initialize requests`);
      }
      const lockedAt = Date.now();
      try {
        if ((await this.live(owner, max, isLive)) >= max) return false;
        // Past half the lease another instance may soon take the lock: count again another time.
        if (Date.now() - lockedAt > this.lock.leaseMs / 2) throw new Error('counting the sessions of this caller took too long');
        await this.map.set(id, owner, ttlMs);
        try {
          await create();
        } catch (err) {
          await this.map.delete(id).catch(() => undefined); // else it counts until pruned at the limit
          throw err;
        }
        return true;
      } finally {
        await this.map.unlock(owner).catch(() => undefined); // the lease frees it
      }
    });
  }

  /**
   * Keep the entry of session `id` alive as long as its session (sliding expiry). Written again
   * rather than only given a new TTL, so a touch lost on the way is made good by the next one; one
   * that lands after the session's delete counts a session that is gone, which the limit prunes.
   */
  async touch(id: string, owner: string, ttlMs: number): Promise<void> {
    await this.map.set(id, owner, ttlMs);
  }

  /** The session is gone: it no longer counts. */
  remove(id: string): Promise<void> {
    return this.map.delete(id);
  }

  /** How many sessions the owner holds; at the limit, entries whose session is gone are dropped first. */
  private async live(owner: string, max: number, isLive: (id: string) => Promise<boolean>): Promise<number> {
    const ids = await this.map.keySetWithPredicate(Predicates.equal('this', owner));
    if (ids.length < max) return ids.length;
    const alive = await Promise.all(ids.map(isLive));
    const gone = ids.filter((_, i) => !alive[i]);
    await Promise.all(gone.map((g) => this.map.delete(g)));
    return ids.length - gone.length;
  }

  /**
   * Run `fn` after this process's earlier creations for `owner` have ended, telling it whether the
   * last of them failed for the store (any error but the gateway's own refusals).
   */
  private serially<T>(owner: string, fn: (storeFailedBefore: boolean) => Promise<T>): Promise<T> {
    const run = (this.queues.get(owner) ?? Promise.resolve(false)).then(fn);
    const tail = run.then(
      () => false,
      (err: unknown) => !(err instanceof GatewayError),
    );
    this.queues.set(owner, tail);
    void tail.then(() => {
      if (this.queues.get(owner) === tail) this.queues.delete(owner);
    });
    return run;
  }
}
