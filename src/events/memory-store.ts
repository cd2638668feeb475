import type { EventStore, StreamWindow } from './store.js';

/**
 * Stream windows in this process: the default, and enough for one gateway. A window is the
 * writer's own object (no copy); a stream not saved or touched for `maxAgeMs` is forgotten, and
 * beyond `maxTotalBytes` for all streams together the least recently written go first.
 */
export class MemoryEventStore implements EventStore {
  /** In order of last save: the first entries are the least recently written. */
  private readonly windows = new Map<string, { window: StreamWindow; at: number; bytes: number }>();
  private total = 0;
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
    private readonly maxTotalBytes = Number.POSITIVE_INFINITY,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(Math.max(maxAgeMs / 4, 250), 60_000));
    this.sweeper.unref();
  }

  save(stream: string, window: StreamWindow): void {
    const old = this.windows.get(stream);
    if (old) {
      this.total -= old.bytes;
      this.windows.delete(stream);
    }
    this.windows.set(stream, { window, at: this.now(), bytes: window.bytes });
    this.total += window.bytes;
    for (const [oldest] of this.windows) {
      if (this.total <= this.maxTotalBytes || oldest === stream) break;
      this.forget(oldest);
    }
  }

  touch(stream: string): void {
    const entry = this.windows.get(stream);
    if (entry) entry.at = this.now();
  }

  async load(stream: string): Promise<StreamWindow | undefined> {
    const entry = this.windows.get(stream);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.maxAgeMs) {
      this.forget(stream);
      return undefined;
    }
    return entry.window;
  }

  /** Streams held, and the bytes of their events (for tests and health figures). */
  get size(): { streams: number; bytes: number } {
    return { streams: this.windows.size, bytes: this.total };
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
    this.total = 0;
  }

  private forget(stream: string): void {
    const entry = this.windows.get(stream);
    if (!entry) return;
    this.total -= entry.bytes;
    this.windows.delete(stream);
  }

  private sweep(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [stream, entry] of this.windows) if (entry.at < cutoff) this.forget(stream);
  }
}

/**
 * `events.store: off`: nothing is kept. Streams are still numbered in process, so GET streams
 * deliver live messages the same way, but the adapters send no ids and nothing can be resumed.
 */
export class NoEventStore implements EventStore {
  save(): void {}
  touch(): void {}
  async load(): Promise<undefined> {
    return undefined;
  }
  async close(): Promise<void> {}
}
