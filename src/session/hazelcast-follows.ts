import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { HazelcastJsonValue, Predicates, type Client, type IMap } from 'hazelcast-client';
import type { Logger } from 'pino';
import { followingKey, type Claim, type FollowLeases, type Following } from './follow-leases.js';

export interface HazelcastFollowsOptions {
  /** How long an instance that stopped renewing (died, froze, lost the cluster) is still taken for alive. */
  readonly leaseMs: number;
  /** How often the lease is renewed (well under `leaseMs`). */
  readonly renewMs: number;
  /**
   * How long a following's entry outlives its last refresh (the session's TTL and a lease): its
   * owner refreshes it while it lives, so entries cannot stay forever once every instance stopped.
   */
  readonly entryTtlMs: number;
  readonly logger: Logger;
}

/** A following as `<mapName>.follows` holds it: the following and the instance holding it. */
interface Held extends Following {
  readonly owner: string;
}

interface Maps {
  /** One entry per following (key: {@link followingKey}), JSON so members can query its owner. */
  readonly follows: IMap<string, HazelcastJsonValue>;
  /** One entry per live instance (key: its id), with the lease's TTL. */
  readonly followers: IMap<string, string>;
}

/** A following this instance holds, with the entry it wrote. */
interface Mine {
  readonly f: Following;
  readonly value: string;
  /** When its entry was written; undefined while the claim is in flight (the lost check skips it). */
  claimedAt: number | undefined;
  /** When its entry's TTL was last pushed back (0: not yet since it was taken over). */
  refreshedAt: number;
}

/** Every instance without a lease, for {@link HazelcastFollows.lookFor}: the full scan. */
const EVERY = '\u0000every';
/** The full scan, which no index serves, runs at attach, on reconnect and every this many renewals (every five leases): a safety net for a lease's end nobody heard of. */
const FULL_SCAN_EVERY_RENEWALS = 15;
/** How many compare-and-sets (takeovers, refreshes) run at once: enough that thousands take a fraction of a lease. */
const PARALLEL = 16;

const MINE: Claim = { mine: true };

/**
 * {@link FollowLeases} in two maps beside the sessions. `<mapName>.follows` records who follows
 * what; `<mapName>.followers` holds one leased entry per live instance, renewed on a timer of its
 * own (bulk work never delays it). The lease is per instance rather than per following, so
 * renewing costs one write per instance however many backend sessions it follows.
 *
 * When an instance's lease ends (it stopped and deleted it, or died and it expired: each instance
 * hears the event, and sees it missing from the live set it reads at each renewal), the others ask
 * the members for that instance's followings (`owner` equals it: the index serves it) and claim
 * each with a compare-and-set of its entry, so exactly one takes it over. A scan for every
 * following whose owner has no lease (no index serves a "not in") runs rarely, as a safety net.
 * An instance that lost the cluster longer than the lease finds its followings under other owners
 * when it is back, and gives them up (`onLost`); an entry of its own merely gone it writes again.
 */
export class HazelcastFollows implements FollowLeases {
  /** This process among the followers (a restart is a new follower). */
  readonly instance = randomBytes(9).toString('base64url');
  private readonly mine = new Map<string, Mine>();
  /** Instances holding a lease when this one last looked. */
  private live = new Set<string>();
  private readonly takeoverListeners: Array<(f: Following) => void> = [];
  private readonly lostListeners: Array<(f: Following) => void> = [];
  private readonly endedListeners: Array<(session: string) => void> = [];
  private maps: Maps | undefined;
  private readonly timer: NodeJS.Timeout;
  private renewals = 0;
  private renewing: Promise<void> | undefined;
  private keeping: Promise<void> | undefined;
  /** Instances whose followings are to be looked for ({@link EVERY}: all without a lease). */
  private readonly wanted = new Set<string>();
  private taking: Promise<void> | undefined;
  private released = false;
  private retired = false;

  constructor(private readonly opts: HazelcastFollowsOptions) {
    this.timer = setInterval(() => this.renew(), opts.renewMs);
    this.timer.unref();
  }

  /** Use a (new) client's maps; the listener is registered once per client and survives its reconnects. */
  async attach(client: Client, mapName: string): Promise<void> {
    const follows = await client.getMap<string, HazelcastJsonValue>(`${mapName}.follows`);
    await follows.addIndex({ type: 'HASH', attributes: ['owner'] });
    const followers = await client.getMap<string, string>(`${mapName}.followers`);
    await followers.addEntryListener({ removed: (e) => this.leaseEnded(e.key), expired: (e) => this.leaseEnded(e.key) }, undefined, false);
    this.maps = { follows, followers };
    // The lease first: a scan before it would find this instance's own followings orphaned.
    this.renew();
    await this.renewing;
    this.soon();
  }

  async claim(f: Following): Promise<Claim> {
    const maps = this.required();
    const key = followingKey(f);
    if (this.mine.has(key)) return MINE;
    const m: Mine = { f, value: encode(f, this.instance), claimedAt: undefined, refreshedAt: Date.now() };
    this.mine.set(key, m);
    try {
      const before = await maps.follows.putIfAbsent(key, new HazelcastJsonValue(m.value), this.opts.entryTtlMs);
      const owner = before === null || before === undefined ? this.instance : decode(before).owner;
      if (owner === this.instance) {
        m.claimedAt = Date.now();
        return MINE;
      }
      if (this.mine.get(key) === m) this.mine.delete(key);
      return { mine: false, owner };
    } catch (err) {
      if (this.mine.get(key) === m) this.mine.delete(key);
      throw err;
    }
  }

  isLive(owner: string): boolean {
    return this.live.has(owner);
  }

  async drop(f: Following): Promise<void> {
    const key = followingKey(f);
    const held = this.mine.get(key);
    if (!held) return;
    this.mine.delete(key);
    // Only the entry this instance wrote: one another instance took over meanwhile stays.
    await this.maps?.follows.remove(key, new HazelcastJsonValue(held.value));
  }

  onTakeover(listener: (f: Following) => void): void {
    this.takeoverListeners.push(listener);
    this.soon();
  }

  onLost(listener: (f: Following) => void): void {
    this.lostListeners.push(listener);
  }

  onSessionEnded(listener: (session: string) => void): void {
    this.endedListeners.push(listener);
  }

  /** The sessions map heard a session deleted (through any instance): its followings end where they are held. */
  sessionEnded(session: string): void {
    for (const l of this.endedListeners) l(session);
  }

  retire(): void {
    this.retired = true;
    this.wanted.clear();
  }

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    await Promise.all([this.renewing, this.keeping, this.taking]);
    // The entries stay, owned by an instance no longer alive: the others take them over on hearing the removal.
    await this.maps?.followers.delete(this.instance);
    this.mine.clear();
  }

  /** Stop renewing (the store closes); what is still held is taken over once the lease expires. */
  close(): void {
    this.released = true;
    clearInterval(this.timer);
    this.maps = undefined;
  }

  /** Look for every following whose owner holds no lease (at attach, after a reconnect: events may have been missed). */
  soon(): void {
    this.lookFor(EVERY);
  }

  private leaseEnded(owner: string): void {
    this.live.delete(owner);
    this.lookFor(owner);
  }

  /** Renew the lease and read who else holds one; then, not waited for, check this instance's own entries. */
  private renew(): void {
    if (this.released || !this.maps || this.renewing) return;
    this.renewing = this.renewLease()
      .catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'renewing the lease on followed backend sessions failed'))
      .finally(() => (this.renewing = undefined));
  }

  private async renewLease(): Promise<void> {
    const maps = this.required();
    await maps.followers.set(this.instance, `${hostname()}:${process.pid}`, this.opts.leaseMs);
    const live = new Set(await maps.followers.keySet());
    // A lease that ended unheard (an event lost): its followings are looked for all the same.
    for (const owner of this.live) if (!live.has(owner)) this.lookFor(owner);
    this.live = live;
    if (++this.renewals % FULL_SCAN_EVERY_RENEWALS === 0) this.soon();
    this.keeping ??= this.keepMine(maps)
      .catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'checking the followed backend sessions failed'))
      .finally(() => (this.keeping = undefined));
  }

  /**
   * Give up what another instance holds now, write again what is merely gone (removed by hand,
   * expired, lost with a member), and push back the TTL of entries half-way to it.
   */
  private async keepMine(maps: Maps): Promise<void> {
    const queriedAt = Date.now();
    const held = new Set(await maps.follows.keySetWithPredicate(Predicates.equal('owner', this.instance)));
    const due = [...this.mine].filter(([key, m]) => m.claimedAt !== undefined && m.claimedAt < queriedAt && (!held.has(key) || queriedAt - m.refreshedAt >= this.opts.entryTtlMs / 2));
    await inParallel(due, async ([key, m]) => {
      if (this.mine.get(key) !== m) return; // dropped meanwhile
      if (held.has(key)) {
        m.refreshedAt = queriedAt;
        await maps.follows.setTtl(key, this.opts.entryTtlMs);
        return;
      }
      const before = await maps.follows.putIfAbsent(key, new HazelcastJsonValue(m.value), this.opts.entryTtlMs);
      if (before === null || before === undefined || decode(before).owner === this.instance || this.mine.get(key) !== m) return;
      this.mine.delete(key);
      for (const l of this.lostListeners) l(m.f);
    });
  }

  /** Queue a look for an instance's followings; one look runs at a time. */
  private lookFor(owner: string): void {
    if (this.released || this.retired || !this.maps || owner === this.instance) return;
    // Nobody here to open them yet (the gateway is starting): they wait for an instance that can.
    if (this.takeoverListeners.length === 0) return;
    this.wanted.add(owner);
    this.taking ??= this.takeOver()
      .catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'looking for backend sessions to follow failed'))
      .finally(() => {
        this.taking = undefined;
        const [next] = this.wanted;
        if (next !== undefined) {
          this.wanted.delete(next);
          this.lookFor(next);
        }
      });
  }

  private async takeOver(): Promise<void> {
    for (let [owner] = this.wanted; owner !== undefined; [owner] = this.wanted) {
      this.wanted.delete(owner);
      const maps = this.maps;
      if (!maps || this.released || this.retired) return;
      const predicate = owner === EVERY ? Predicates.not(Predicates.inPredicate('owner', ...(await maps.followers.keySet()))) : Predicates.equal('owner', owner);
      const orphans = await maps.follows.entrySetWithPredicate(predicate);
      let taken = 0;
      // In random order, so instances racing for many orphans share them out.
      await inParallel(shuffled(orphans), async ([key, before]) => {
        const was = decode(before);
        if (this.released || this.retired || was.owner === this.instance) return;
        const f = followingOf(was);
        const value = encode(f, this.instance);
        // Every entry was written by encode(), so encoding it again gives the stored value back to compare with.
        if (!(await maps.follows.replaceIfSame(key, new HazelcastJsonValue(encode(f, was.owner)), new HazelcastJsonValue(value)))) return;
        // Refreshed at the next check: a replace may not keep the entry's TTL.
        this.mine.set(key, { f, value, claimedAt: Date.now(), refreshedAt: 0 });
        taken++;
        for (const l of this.takeoverListeners) l(f);
      });
      // One line per look: a rolling deploy hands over every following of an instance at once.
      if (taken > 0) this.opts.logger.info({ followings: taken }, 'took over following backend sessions from gateway instances that stopped');
    }
  }

  private required(): Maps {
    if (!this.maps || this.released) throw new Error('not connected to the Hazelcast cluster');
    return this.maps;
  }
}

/** Run `work` on every item, at most {@link PARALLEL} at once. */
async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await work(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, items.length) }, worker));
}

function encode(f: Following, owner: string): string {
  const held: Held = { session: f.session, backend: f.backend, backendSession: f.backendSession, prefix: f.prefix, owner };
  return JSON.stringify(held);
}

/** An entry's value as the client hands it back: parsed already (the client's default JSON policy), or not. */
function decode(v: HazelcastJsonValue | Held): Held {
  return v instanceof HazelcastJsonValue ? (JSON.parse(v.toString()) as Held) : v;
}

function followingOf(h: Held): Following {
  return { session: h.session, backend: h.backend, backendSession: h.backendSession, prefix: h.prefix };
}

function shuffled<T>(items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}
