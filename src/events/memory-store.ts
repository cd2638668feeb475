import type { EventStore, StreamWindow } from './store.js';

/**
 * Stream windows in this process: the default, and enough for one gateway. A window is the
 * writer's own object (no copy); a stream not saved or touched for `maxAgeMs` is forgotten.
 */
export class MemoryEventStore implements EventStore {
  private readonly windows = new Map<string, { window: StreamWindow; at: number }>();
  private readonly sweeper: NodeJS.Timeout;

  constructor(
    private readonly maxAgeMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.sweeper = setInterval(() => this.sweep(), Math.min(Math.max(maxAgeMs / 4, 250), 60_000));
    this.sweeper.unref();
  }

  save(stream: string, window: StreamWindow): void {
    this.windows.set(stream, { window, at: this.now() });
  }

  touch(stream: string): void {
    const entry = this.windows.get(stream);
    if (entry) entry.at = this.now();
  }

  async load(stream: string): Promise<StreamWindow | undefined> {
    const entry = this.windows.get(stream);
    if (!entry) return undefined;
    if (this.now() - entry.at > this.maxAgeMs) {
      this.windows.delete(stream);
      return undefined;
    }
    return entry.window;
  }

  /** Streams held (for tests and health figures). */
  get size(): number {
    return this.windows.size;
  }

  async close(): Promise<void> {
    clearInterval(this.sweeper);
    this.windows.clear();
  }

  private sweep(): void {
    const cutoff = this.now() - this.maxAgeMs;
    for (const [stream, entry] of this.windows) if (entry.at < cutoff) this.windows.delete(stream);
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
