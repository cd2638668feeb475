import { SessionQuota } from './quota.js';
import { withBackendSession, withRelay, withTask, withoutTasks, type BackendSession, handoffKey, type Handoff, type PendingRelay, type SessionRecord, type SessionStore } from './store.js';

/** In-process sessions with sliding idle expiry; the default for a single gateway. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly expiredListeners: Array<(r: SessionRecord) => void> = [];
  private readonly handoffs = new Map<string, { readonly message: Handoff; readonly until: number }>();
  private readonly handoffListeners: Array<(id: string, key: string, message: Handoff) => void> = [];
  private readonly sweeper: NodeJS.Timeout;
  private readonly quota = new SessionQuota();

  constructor(
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(Math.max(ttlMs / 4, 250), 60_000));
    this.sweeper.unref();
  }

  async create(record: SessionRecord): Promise<void> {
    this.sessions.set(record.id, record);
  }

  /** One process, one count: exact without locking (nothing else runs between count and create). */
  async createWithin(record: SessionRecord, owner: string, max: number): Promise<boolean> {
    if (!this.quota.tryAdd(record.id, owner, max)) {
      // At the limit: sessions idle past the TTL that the sweep has not reached yet free their places first.
      for (const id of this.quota.idsOf(owner)) {
        const r = this.sessions.get(id);
        if (!r) this.quota.remove(id);
        else if (this.now() - r.lastSeenAt > this.ttlMs) this.expire(r);
      }
      if (!this.quota.tryAdd(record.id, owner, max)) return false;
    }
    this.sessions.set(record.id, record);
    return true;
  }

  async createIfAbsent(record: SessionRecord): Promise<SessionRecord> {
    const held = await this.current(record.id);
    if (held) return held;
    this.sessions.set(record.id, record);
    return record;
  }

  async get(id: string): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(id);
    if (!r) return undefined;
    const now = this.now();
    if (now - r.lastSeenAt > this.ttlMs) {
      this.expire(r);
      return undefined;
    }
    const touched = { ...r, lastSeenAt: now };
    this.sessions.set(id, touched);
    return touched;
  }

  /** One process holds no copies: the same record as `get`, untouched. */
  async current(id: string): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(id);
    return r && this.now() - r.lastSeenAt <= this.ttlMs ? r : undefined;
  }

  async setBackendSession(id: string, backend: string, session: BackendSession | undefined): Promise<void> {
    const r = this.sessions.get(id);
    if (r) this.sessions.set(id, withBackendSession(r, backend, session));
  }

  async setLogLevel(id: string, level: string): Promise<void> {
    const r = this.sessions.get(id);
    if (r) this.sessions.set(id, { ...r, logLevel: level });
  }

  async addTask(id: string, taskId: string): Promise<void> {
    const r = this.sessions.get(id);
    if (r) this.sessions.set(id, withTask(r, taskId));
  }

  async forgetTasks(id: string, taskIds: readonly string[]): Promise<void> {
    const r = this.sessions.get(id);
    if (r) this.sessions.set(id, withoutTasks(r, taskIds));
  }

  async addRelay(id: string, relayId: string, relay: PendingRelay): Promise<void> {
    const r = this.sessions.get(id);
    if (r) this.sessions.set(id, withRelay(r, relayId, relay, this.now()));
  }

  async takeRelay(id: string, relayId: string): Promise<PendingRelay | undefined> {
    const r = this.sessions.get(id);
    const relay = r?.relays?.[relayId];
    if (!r || !relay) return undefined;
    this.sessions.set(id, withRelay(r, relayId, undefined, this.now()));
    return relay;
  }

  /** One process: the listeners are this process's, told at once (the message is kept for symmetry). */
  async handOff(id: string, key: string, message: Handoff, ttlMs: number): Promise<void> {
    this.handoffs.set(handoffKey(id, key), { message, until: this.now() + ttlMs });
    for (const l of this.handoffListeners) l(id, key, message);
  }

  async takeHandoff(id: string, key: string): Promise<Handoff | undefined> {
    const k = handoffKey(id, key);
    const h = this.handoffs.get(k);
    this.handoffs.delete(k);
    return h && h.until > this.now() ? h.message : undefined;
  }

  onHandoff(listener: (id: string, key: string, message: Handoff) => void): void {
    this.handoffListeners.push(listener);
  }

  async delete(id: string): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(id);
    this.sessions.delete(id);
    this.quota.remove(id);
    return r;
  }

  onExpired(listener: (record: SessionRecord) => void): void {
    this.expiredListeners.push(listener);
  }

  async size(): Promise<number> {
    return this.sessions.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.sessions.clear();
    this.handoffs.clear();
  }

  private sweep(): void {
    const now = this.now();
    for (const r of this.sessions.values()) if (now - r.lastSeenAt > this.ttlMs) this.expire(r);
    for (const [k, h] of this.handoffs) if (h.until <= now) this.handoffs.delete(k);
  }

  private expire(r: SessionRecord): void {
    this.sessions.delete(r.id);
    this.quota.remove(r.id);
    for (const l of this.expiredListeners) l(r);
  }
}

