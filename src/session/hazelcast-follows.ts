import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { HazelcastJsonValue, Predicates, type Client, type IMap } from 'hazelcast-client';
import type { Logger } from 'pino';
import { followingKey, type FollowLeases, type Following } from './follow-leases.js';

export interface HazelcastFollowsOptions {
  /** How long an instance that stopped renewing (died, froze, lost the cluster) is still taken for alive. */
  readonly leaseMs: number;
  /** How often the lease is renewed and followings of instances gone are looked for (well under `leaseMs`). */
  readonly sweepMs: number;
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

/**
 * {@link FollowLeases} in two maps beside the sessions. `<mapName>.follows` records who follows
 * what; `<mapName>.followers` holds one leased entry per live instance, which it renews every
 * sweep. The lease is per instance rather than per following, so renewing costs one write per
 * instance and sweep however many backend sessions it follows.
 *
 * A following whose owner has no live entry is an orphan: every instance looks for orphans each
 * sweep (a member-side query on the owner) and claims each with a compare-and-set of its entry,
 * so exactly one takes it over. An instance that stops deletes its entry (`release`): the others
 * hear the removal and sweep at once. One that dies stops renewing: its entry expires (they hear
 * that too, or the next sweep finds it gone). An instance that lost the cluster longer than the
 * lease finds its followings under other owners when it is back, and gives them up (`onLost`).
 */
export class HazelcastFollows implements FollowLeases {
  /** This process among the followers (a restart is a new follower). */
  readonly instance = randomBytes(9).toString('base64url');
  /** Followings this instance holds (or is claiming), with the entry it wrote and when. */
  private readonly mine = new Map<string, { readonly f: Following; readonly value: string; readonly since: number }>();
  private readonly takeoverListeners: Array<(f: Following) => void> = [];
  private readonly lostListeners: Array<(f: Following) => void> = [];
  private maps: Maps | undefined;
  private readonly timer: NodeJS.Timeout;
  private sweeping: Promise<void> | undefined;
  private sweepAgain = false;
  private released = false;

  constructor(private readonly opts: HazelcastFollowsOptions) {
    this.timer = setInterval(() => this.soon(), opts.sweepMs);
    this.timer.unref();
  }

  /** Use a (new) client's maps; the listener is registered once per client and survives its reconnects. */
  async attach(client: Client, mapName: string): Promise<void> {
    const follows = await client.getMap<string, HazelcastJsonValue>(`${mapName}.follows`);
    await follows.addIndex({ type: 'HASH', attributes: ['owner'] });
    const followers = await client.getMap<string, string>(`${mapName}.followers`);
    await followers.addEntryListener({ removed: () => this.soon(), expired: () => this.soon() }, undefined, false);
    this.maps = { follows, followers };
    this.soon();
  }

  async claim(f: Following): Promise<boolean> {
    const maps = this.required();
    const key = followingKey(f);
    const value = encode(f, this.instance);
    if (this.mine.get(key)) return true;
    this.mine.set(key, { f, value, since: Date.now() });
    try {
      const before = await maps.follows.putIfAbsent(key, new HazelcastJsonValue(value));
      if (before === null || before === undefined || decode(before).owner === this.instance) return true;
    } catch (err) {
      this.mine.delete(key);
      throw err;
    }
    this.mine.delete(key);
    return false;
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

  async release(): Promise<void> {
    this.released = true;
    clearInterval(this.timer);
    await this.sweeping;
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

  /** Sweep now, or once more after the sweep running now (an event may have come too late for it). */
  soon(): void {
    if (this.released || !this.maps) return;
    if (this.sweeping) {
      this.sweepAgain = true;
      return;
    }
    this.sweeping = this.sweep()
      .catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'looking for backend sessions to follow failed'))
      .finally(() => {
        this.sweeping = undefined;
        if (this.sweepAgain) {
          this.sweepAgain = false;
          this.soon();
        }
      });
  }

  /** Renew this instance's lease, take over orphans, give up what others hold now. */
  private async sweep(): Promise<void> {
    const maps = this.maps;
    if (!maps) return;
    const startedAt = Date.now();
    await maps.followers.set(this.instance, `${hostname()}:${process.pid}`, this.opts.leaseMs);
    const live = await maps.followers.keySet();
    // Nobody here to open them yet (the gateway is starting): they wait for an instance that can.
    const orphans = this.takeoverListeners.length === 0 ? [] : await maps.follows.entrySetWithPredicate(Predicates.not(Predicates.inPredicate('owner', ...live)));
    let taken = 0;
    // In random order, so instances racing for many orphans share them out.
    for (const [key, before] of shuffled(orphans)) {
      if (this.released) return;
      const was = decode(before);
      const f = followingOf(was);
      const value = encode(f, this.instance);
      // Every entry was written by encode(), so encoding it again gives the stored value back to compare with.
      if (!(await maps.follows.replaceIfSame(key, new HazelcastJsonValue(encode(f, was.owner)), new HazelcastJsonValue(value)))) continue;
      this.mine.set(key, { f, value, since: Date.now() });
      taken++;
      for (const l of this.takeoverListeners) l(f);
    }
    // One line per sweep: a rolling deploy hands over every following of an instance at once.
    if (taken > 0) this.opts.logger.info({ followings: taken }, 'took over following backend sessions from gateway instances that stopped');
    const held = new Set(await maps.follows.keySetWithPredicate(Predicates.equal('owner', this.instance)));
    for (const [key, m] of this.mine) {
      if (held.has(key) || m.since >= startedAt) continue;
      this.mine.delete(key);
      for (const l of this.lostListeners) l(m.f);
    }
  }

  private required(): Maps {
    if (!this.maps || this.released) throw new Error('not connected to the Hazelcast cluster');
    return this.maps;
  }
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
