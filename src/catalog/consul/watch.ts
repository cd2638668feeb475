import type { ConsulRead } from './http.js';

export interface WatchOptions {
  /** One read at `index` (0: answer at once). */
  readonly read: (index: number, signal: AbortSignal) => Promise<ConsulRead>;
  /** Called with the first answer and with every answer whose index moved. */
  readonly onData: (body: unknown) => void;
  readonly onSuccess: () => void;
  readonly onError: (err: Error) => void;
  /** Backoff cap between failed reads. */
  readonly retryMaxMs: number;
  readonly signal: AbortSignal;
  /** Least time between two reads, so a misbehaving index can never make a tight loop. */
  readonly minIntervalMs?: number;
}

const RETRY_MIN_MS = 250;

/**
 * Follows one Consul resource with blocking queries until `signal` aborts, as Consul's
 * blocking-query guidance asks: an index that goes backwards (a restarted or replaced
 * server) is reset to 0, an index ≤ 0 is treated as 1, reads are rate-limited, and
 * failures back off exponentially with jitter up to `retryMaxMs`, then re-read without blocking.
 */
export async function runWatch(o: WatchOptions): Promise<void> {
  const minInterval = o.minIntervalMs ?? 50;
  let index = 0;
  let delivered = false;
  let failures = 0;
  let lastStart = 0;
  while (!o.signal.aborted) {
    const idle = lastStart + minInterval - Date.now();
    if (idle > 0 && !(await pause(idle, o.signal))) return;
    lastStart = Date.now();
    try {
      const r = await o.read(index, o.signal);
      failures = 0;
      o.onSuccess();
      const moved = !delivered || r.index !== index;
      index = r.index < index ? 0 : Math.max(r.index, 1);
      if (moved) {
        delivered = true;
        o.onData(r.body);
      }
    } catch (err) {
      if (o.signal.aborted) return;
      // After a failure the index may belong to another Consul (a restarted dev agent counts the
      // same indexes again): read once without blocking instead of waiting on a number that means nothing.
      index = 0;
      failures++;
      o.onError(err as Error);
      const backoff = Math.min(o.retryMaxMs, RETRY_MIN_MS * 2 ** Math.min(failures - 1, 16));
      if (!(await pause(backoff * (0.5 + Math.random() / 2), o.signal))) return;
    }
  }
}

/** Sleep; false when aborted meanwhile. */
function pause(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve(!signal.aborted);
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
