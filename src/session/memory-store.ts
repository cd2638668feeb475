import { withBackendSession, withRelay, withTask, type BackendSession, type PendingRelay, type SessionRecord, type SessionStore } from './store.js';

/** In-process sessions with sliding idle expiry; the default for a single gateway. */
export class MemorySessionStore implements SessionStore {
  private readonly sessions = new Map<string, SessionRecord>();
  private readonly expiredListeners: Array<(r: SessionRecord) => void> = [];
  private readonly sweeper: NodeJS.Timeout;

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

  async delete(id: string): Promise<SessionRecord | undefined> {
    const r = this.sessions.get(id);
    this.sessions.delete(id);
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
  }

  private sweep(): void {
    const now = this.now();
    for (const r of this.sessions.values()) if (now - r.lastSeenAt > this.ttlMs) this.expire(r);
  }

  private expire(r: SessionRecord): void {
    this.sessions.delete(r.id);
    for (const l of this.expiredListeners) l(r);
  }
}
