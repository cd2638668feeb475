import type { Client, IMap } from 'hazelcast-client';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { HazelcastConnection } from './hazelcast-connection.js';
import { HazelcastOwners } from './hazelcast-owners.js';
import { HazelcastFollows } from './hazelcast-follows.js';
import { withBackendSession, withRelay, withTask, withoutTasks, type BackendSession, handoffKey, type Handoff, type PendingRelay, type SessionRecord, type SessionStore } from './store.js';

export interface HazelcastStoreOptions {
  readonly clusterName: string;
  readonly members: readonly string[];
  readonly mapName: string;
  /** Idle time after which a session expires. */
  readonly ttlMs: number;
  /** How long one operation may wait for the cluster before the request gets 503. */
  readonly invocationTimeoutMs: number;
  /** How long one client tries to reach the cluster before a fresh one replaces it (default 10 s). */
  readonly connectWindowMs?: number;
  readonly logger: Logger;
}

type SessionMap = IMap<string, string>;

/**
 * Sessions in a Hazelcast IMap, shared by every gateway instance of the cluster.
 *
 * Expiry is enforced by the cluster: each entry has a TTL that uses of the session push
 * forward (sliding expiry), at most once per touch interval per instance.
 *
 * Warm lookups are served from a local cache without a network round trip. Every instance
 * listens to the map's removed/updated/expired events, which members send at once, and drops
 * its copy. (Hazelcast's built-in near cache is not used: members batch its invalidations,
 * 10 s by default, so a DELETE on one instance would not end the session on the others at
 * once.) Copies are also bounded to `cacheTtlMs` in case an event is lost, and the cache is
 * cleared when the connection drops. While disconnected, every operation fails fast with
 * GW_SESSION_STORE_UNAVAILABLE (503) instead of serving stale reads.
 */
export class HazelcastSessionStore implements SessionStore {
  readonly shared = true;
  private connected = false;
  private readonly touched = new Map<string, number>();
  private readonly cache = new Map<string, { record: SessionRecord; at: number }>();
  private readonly expiredListeners: Array<(r: SessionRecord) => void> = [];
  private readonly handoffListeners: Array<(id: string, key: string, message: Handoff) => void> = [];
  /** Handed-off messages, in a map of their own beside the sessions (`<mapName>.handoffs`): short-lived, never a session. */
  private handoffs: SessionMap | undefined;
  /** Who holds which session (`<mapName>.owners`), for `sessions.maxPerPrincipal` across the cluster. */
  private owners: HazelcastOwners | undefined;
  /** Which instance follows which backend session (`<mapName>.follows`, `<mapName>.followers`), so another takes over when it stops. */
  readonly follows: HazelcastFollows;
  private readonly touchIntervalMs: number;
  private readonly cacheTtlMs: number;
  private readonly sweeper: NodeJS.Timeout;
  private readonly connection: HazelcastConnection;
  private client: Client | undefined;
  private map: SessionMap | undefined;
  private mapReady: Promise<void> | undefined;

  private constructor(private readonly opts: HazelcastStoreOptions) {
    this.touchIntervalMs = Math.min(Math.max(opts.ttlMs / 10, 250), 5_000);
    this.cacheTtlMs = Math.min(this.touchIntervalMs, 2_000);
    this.sweeper = setInterval(() => this.sweep(), Math.max(opts.ttlMs, 1_000));
    this.sweeper.unref();
    // An instance is taken for gone after three renewals it missed, each bounded by the invocation timeout.
    const leaseMs = 3 * opts.invocationTimeoutMs;
    // A following's entry lasts as long as its session could, and a lease more for its owner to refresh it.
    this.follows = new HazelcastFollows({ leaseMs, renewMs: opts.invocationTimeoutMs, entryTtlMs: this.entryTtl() + leaseMs, logger: opts.logger });
    this.connection = new HazelcastConnection(opts, { connected: (c) => this.onConnected(c), disconnected: () => this.onDisconnected() });
  }

  /**
   * Connect. Waits up to `startupWaitMs` for the cluster, then goes on connecting in the
   * background, so the gateway starts (and answers 503 for sessions) even while the cluster is down.
   */
  static async open(opts: HazelcastStoreOptions, startupWaitMs = 10_000): Promise<HazelcastSessionStore> {
    const store = new HazelcastSessionStore(opts);
    if (await store.connection.start(startupWaitMs)) await store.mapReady;
    else opts.logger.warn({ cluster: opts.clusterName, members: opts.members }, 'Hazelcast cluster not reachable yet; connecting in the background');
    return store;
  }

  private onConnected(client: Client): void {
    if (client !== this.client) {
      this.client = client;
      this.map = undefined;
      this.mapReady = undefined;
    }
    this.connected = true;
    // A reconnect of the same client: the listeners survive, but events sent meanwhile were missed.
    if (this.mapReady) void this.mapReady.then(() => this.replayHandoffs().finally(() => this.follows.soon()));
    else void this.prepareMap();
  }

  private onDisconnected(): void {
    this.connected = false;
    this.cache.clear(); // events may be missed while disconnected
    this.opts.logger.warn({ cluster: this.opts.clusterName }, 'session store lost its Hazelcast connection; session requests get 503 until it is back');
  }

  /** The map proxy and the expiry listener need a connection; the client re-registers the listener after reconnects. */
  private prepareMap(): Promise<void> {
    const client = this.client;
    if (!client) return Promise.resolve();
    if (this.mapReady) return this.mapReady;
    const ready: Promise<void> = (async () => {
      const map = await client.getMap<string, string>(this.opts.mapName);
      await map.addEntryListener(
        {
          removed: (e) => {
            this.forget(e.key);
            // Deleted through whichever instance: the one following its backend sessions stops.
            this.follows.sessionEnded(e.key);
          },
          updated: (e) => this.forget(e.key),
          evicted: (e) => this.forget(e.key),
          expired: (e) => this.onExpiredEntry(e.key, e.oldValue ?? e.value),
        },
        undefined,
        true,
      );
      const handoffs = await client.getMap<string, string>(`${this.opts.mapName}.handoffs`);
      await handoffs.addEntryListener({ added: (e) => this.announce(e.key, e.value) }, undefined, true);
      // The lease outlasts an owner's count and create (each step bounded by the invocation timeout) with room to spare.
      const owners = await HazelcastOwners.open(client, `${this.opts.mapName}.owners`, { waitMs: this.opts.invocationTimeoutMs, leaseMs: 5 * this.opts.invocationTimeoutMs });
      if (client === this.client) {
        this.map = map;
        this.handoffs = handoffs;
        this.owners = owners;
        await this.follows.attach(client, this.opts.mapName);
      }
    })().catch((err: unknown) => {
      // Only this client's attempt: a failure of a replaced client must not undo its successor's.
      if (this.mapReady === ready) this.mapReady = undefined;
      this.opts.logger.error({ err: (err as Error).message }, 'cannot open the Hazelcast session map');
    });
    this.mapReady = ready;
    return ready;
  }

  /** Whether the client currently has a connection to the cluster. */
  isConnected(): boolean {
    return this.connected;
  }

  async create(record: SessionRecord): Promise<void> {
    await this.op('create', (map) => map.set(record.id, JSON.stringify(record), this.entryTtl()));
    const now = Date.now();
    this.touched.set(record.id, now);
    this.cache.set(record.id, { record, at: now });
  }

  /** Counted in the cluster (src/session/hazelcast-owners.ts): exact however many instances create at once. */
  async createWithin(record: SessionRecord, owner: string, max: number): Promise<boolean> {
    const counted: SessionRecord = { ...record, quotaOwner: owner };
    const made = await this.op('create', (map) =>
      this.ownersIndex().within(owner, record.id, max, this.ownersTtl(), (id) => map.containsKey(id), () => map.set(record.id, JSON.stringify(counted), this.entryTtl())),
    );
    if (!made) return false;
    const now = Date.now();
    this.touched.set(record.id, now);
    this.cache.set(record.id, { record: counted, at: now });
    return true;
  }

  async createIfAbsent(record: SessionRecord): Promise<SessionRecord> {
    const held = await this.op('create', (map) => map.putIfAbsent(record.id, JSON.stringify(record), this.entryTtl()));
    const now = Date.now();
    this.touched.set(record.id, now);
    const current = typeof held === 'string' ? decode(held) : record;
    this.cache.set(record.id, { record: current, at: now });
    return current;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    if (!this.connected) throw new GatewayError('GW_SESSION_STORE_UNAVAILABLE', 'not connected to the Hazelcast cluster');
    const now = Date.now();
    const cached = this.cache.get(id);
    const record = cached && now - cached.at <= this.cacheTtlMs ? cached.record : await this.current(id);
    if (!record) return undefined;
    if (now - (this.touched.get(id) ?? 0) >= this.touchIntervalMs) {
      this.touched.set(id, now);
      this.map?.setTtl(id, this.entryTtl()).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'session touch failed'));
      this.touchCount(record);
    }
    return { ...record, lastSeenAt: now };
  }

  /** The cluster's record, never the local copy (which it refreshes). */
  async current(id: string): Promise<SessionRecord | undefined> {
    const json = await this.op('get', (map) => map.get(id));
    if (json === null || json === undefined) {
      this.forget(id);
      return undefined;
    }
    const record = decode(json);
    this.cache.set(id, { record, at: Date.now() });
    return record;
  }

  setBackendSession(id: string, backend: string, session: BackendSession | undefined): Promise<void> {
    return this.update(id, (r) => withBackendSession(r, backend, session));
  }

  setLogLevel(id: string, level: string): Promise<void> {
    return this.update(id, (r) => ({ ...r, logLevel: level }));
  }

  addTask(id: string, taskId: string): Promise<void> {
    return this.update(id, (r) => withTask(r, taskId));
  }

  forgetTasks(id: string, taskIds: readonly string[]): Promise<void> {
    return this.update(id, (r) => withoutTasks(r, taskIds));
  }

  addRelay(id: string, relayId: string, relay: PendingRelay): Promise<void> {
    return this.update(id, (r) => withRelay(r, relayId, relay));
  }

  async takeRelay(id: string, relayId: string): Promise<PendingRelay | undefined> {
    let taken: PendingRelay | undefined;
    await this.update(id, (r) => {
      taken = r.relays?.[relayId];
      return taken ? withRelay(r, relayId, undefined) : undefined;
    });
    return taken;
  }

  async handOff(id: string, key: string, message: Handoff, ttlMs: number): Promise<void> {
    await this.op('hand off', () => this.handoffMap().set(handoffKey(id, key), JSON.stringify(message), ttlMs));
  }

  async takeHandoff(id: string, key: string): Promise<Handoff | undefined> {
    const json = await this.op('take handoff', () => this.handoffMap().remove(handoffKey(id, key)));
    return typeof json === 'string' ? (JSON.parse(json) as Handoff) : undefined;
  }

  onHandoff(listener: (id: string, key: string, message: Handoff) => void): void {
    this.handoffListeners.push(listener);
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    const json = await this.op('delete', (map) => map.remove(id));
    this.forget(id);
    if (typeof json !== 'string') return undefined;
    const record = decode(json);
    // The session is gone already: an entry left behind counts only until the owner's limit prunes it.
    if (record.quotaOwner !== undefined) await this.owners?.remove(id).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'dropping a deleted session from its owner failed'));
    return record;
  }

  onExpired(listener: (record: SessionRecord) => void): void {
    this.expiredListeners.push(listener);
  }

  size(): Promise<number> {
    return this.op('size', (map) => map.size());
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.follows.close();
    this.connected = false;
    this.map = undefined;
    this.handoffs = undefined;
    this.owners = undefined;
    this.cache.clear();
    await this.connection.close();
  }

  /** Compare-and-set against the cluster's current value (never the near cache's), retried on races; `change` answers undefined to leave it. */
  private async update(id: string, change: (r: SessionRecord) => SessionRecord | undefined): Promise<void> {
    for (let attempt = 0; attempt < 8; attempt++) {
      const view = await this.op('read', (map) => map.getEntryView(id));
      if (!view) return;
      const record = change(decode(view.value));
      if (!record) return; // nothing to change
      const next = JSON.stringify(record);
      if (await this.op('update', (map) => map.replaceIfSame(id, view.value, next))) {
        this.cache.set(id, { record, at: Date.now() });
        await this.op('update', (map) => map.setTtl(id, this.entryTtl()));
        this.touchCount(record);
        return;
      }
    }
    throw new GatewayError('GW_SESSION_STORE_UNAVAILABLE', `session ${id.slice(0, 8)}… kept changing under concurrent updates`);
  }

  /** TTL of an entry: the idle TTL plus one touch interval, so a session never expires early. */
  private entryTtl(): number {
    return this.opts.ttlMs + this.touchIntervalMs;
  }

  /** The owner's count of the session lives at least as long as the session: one touch interval more. */
  private ownersTtl(): number {
    return this.entryTtl() + this.touchIntervalMs;
  }

  /** Push the expiry of the session's count with the session's own, in the background (calls never wait for it). */
  private touchCount(record: SessionRecord): void {
    if (record.quotaOwner === undefined) return;
    this.owners?.touch(record.id, record.quotaOwner, this.ownersTtl()).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'touching the count of a session failed'));
  }

  private ownersIndex(): HazelcastOwners {
    if (!this.owners) throw new Error('the owners map is not open');
    return this.owners;
  }

  private forget(id: string): void {
    this.cache.delete(id);
    this.touched.delete(id);
  }

  private async op<T>(what: string, fn: (map: SessionMap) => Promise<T>): Promise<T> {
    const map = this.map;
    if (!this.connected || !map) throw new GatewayError('GW_SESSION_STORE_UNAVAILABLE', 'not connected to the Hazelcast cluster');
    try {
      return await fn(map);
    } catch (err) {
      // A refusal the store gave on purpose (src/session/hazelcast-owners.ts), not a failure to reach it.
      if (err instanceof GatewayError) throw err;
      throw new GatewayError('GW_SESSION_STORE_UNAVAILABLE', `${what} failed: ${(err as Error).message}`, { cause: err });
    }
  }

  private handoffMap(): SessionMap {
    if (!this.handoffs) throw new Error('the handoff map is not open');
    return this.handoffs;
  }

  private announce(entryKey: string, json: string | null | undefined): void {
    const sep = entryKey.indexOf('\u0000');
    if (sep < 0 || typeof json !== 'string') return;
    const message = JSON.parse(json) as Handoff;
    for (const l of this.handoffListeners) l(entryKey.slice(0, sep), entryKey.slice(sep + 1), message);
  }

  /** Tell the listeners again of every message still kept (few: each lives until taken, or seconds). */
  private async replayHandoffs(): Promise<void> {
    try {
      for (const [k, v] of await this.handoffMap().entrySet()) this.announce(k, v);
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'reading handed-off messages after a reconnect failed');
    }
  }

  private onExpiredEntry(id: string, json: string | null | undefined): void {
    this.forget(id);
    if (typeof json !== 'string') return;
    const record = decode(json);
    for (const l of this.expiredListeners) l(record);
  }

  /** Forget local bookkeeping of sessions not used for a whole TTL (they are gone or used elsewhere). */
  private sweep(): void {
    const cutoff = Date.now() - this.entryTtl();
    for (const [id, t] of this.touched) if (t < cutoff) this.forget(id);
    for (const [id, c] of this.cache) if (c.at < cutoff) this.cache.delete(id);
  }
}


/** A record as the map stores it (JSON). */
function decode(json: string): SessionRecord {
  return JSON.parse(json) as SessionRecord;
}
