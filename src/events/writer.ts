import { eventId } from './event-id.js';
import type { EventBounds, EventStore, StreamOwner, StreamWindow } from './store.js';

/**
 * The one writer of a stream, in the process that produces its events: numbers them, keeps the
 * window within its bounds, saves it, and wakes the connections that follow it here.
 */
export class StreamWriter {
  readonly window: StreamWindow;
  private seq = 0;
  private waiters: Array<() => void> = [];
  private touchedAt: number;

  constructor(
    readonly id: string,
    owner: StreamOwner,
    private readonly store: EventStore,
    private readonly bounds: EventBounds,
    private readonly onEnd: (w: StreamWriter) => void,
    private readonly now: () => number = Date.now,
  ) {
    this.window = { ...owner, events: [], ended: false, bytes: 0 };
    this.touchedAt = now();
  }

  /** Sequence number of the newest event (0 before the first). */
  get last(): number {
    return this.seq;
  }

  /** Record one event (data '' for a priming event); returns its SSE id. */
  append(data: string): string {
    if (this.window.ended) throw new Error(`stream ${this.id} has ended`);
    const at = this.now();
    const w = this.window;
    w.events.push({ seq: ++this.seq, data, at });
    w.bytes += data.length;
    // The newest event always stays: a client that saw it can resume without a gap.
    const oldest = at - this.bounds.maxAgeMs;
    while (w.events.length > 1 && (w.events.length > this.bounds.maxEventsPerStream || w.bytes > this.bounds.maxBytesPerStream || w.events[0]!.at < oldest)) {
      w.bytes -= w.events.shift()!.data.length;
    }
    this.touchedAt = at;
    this.store.save(this.id, w);
    this.wake();
    return eventId(this.id, this.seq);
  }

  /** No more events: followers end once they have replayed what is kept. */
  end(): void {
    if (this.window.ended) return;
    this.window.ended = true;
    this.store.save(this.id, this.window);
    this.wake();
    this.onEnd(this);
  }

  /** An idle stream someone still listens to: keep it from expiring (at most every quarter of the age bound). */
  touch(): void {
    const now = this.now();
    if (now - this.touchedAt < this.bounds.maxAgeMs / 4) return;
    this.touchedAt = now;
    this.store.touch(this.id);
  }

  /** Resolves once there is an event after `seq`, the stream ended, or `signal` aborted. */
  changed(seq: number, signal: AbortSignal): Promise<void> {
    if (this.seq > seq || this.window.ended || signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        signal.removeEventListener('abort', done);
        const i = this.waiters.indexOf(done);
        if (i >= 0) this.waiters.splice(i, 1);
        resolve();
      };
      this.waiters.push(done);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const w of waiters) w();
  }
}
