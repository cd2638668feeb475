import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wait for `work` at most `ms`, whichever comes first; `work` goes on either way. The timer is
 * kept referenced on purpose: at start nothing else may keep the process alive yet (no listener,
 * only unreferenced retry timers), and a start that waits on an unreachable dependency must
 * reach its listener instead of letting Node exit with code 0.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Wait `ms`, or less when `signal` aborts first; never rejects, and never keeps the process alive by itself. */
export function pause(ms: number, signal?: AbortSignal): Promise<unknown> {
  return delay(ms, undefined, signal ? { signal, ref: false } : { ref: false }).catch(() => undefined);
}

/** `pending`, unless `signal` aborts first (then its reason is thrown); no listener is left behind either way. */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** How a back-off grows: the first delay, doubled after each failure up to `maxMs`. */
export interface BackoffOptions {
  readonly firstMs: number;
  readonly maxMs: number;
  /**
   * Up to this share of each delay is taken off at random (0 to 1, default 0), so replicas that
   * lost the same dependency at the same moment do not all come back to it in step.
   */
  readonly jitter?: number;
}

/**
 * The delays between attempts against a dependency that is down: `firstMs`, doubling, capped at
 * `maxMs`. Shared by every background loop that retries (OIDC discovery, OPA loading, the
 * Hazelcast connection, list watches), so they all back off alike and none hammers a peer that is
 * down or sleeps long after it is back.
 */
export class Backoff {
  private current: number;

  constructor(private readonly o: BackoffOptions) {
    if (!(o.firstMs > 0) || !(o.maxMs >= o.firstMs)) throw new RangeError(`back-off needs 0 < firstMs <= maxMs (got ${o.firstMs}, ${o.maxMs})`);
    if (o.jitter !== undefined && !(o.jitter >= 0 && o.jitter <= 1)) throw new RangeError(`back-off jitter must be between 0 and 1 (got ${o.jitter})`);
    this.current = o.firstMs;
  }

  /** The delay before the next attempt; the one after it is twice as long, up to the cap. */
  next(): number {
    const ms = this.current;
    this.current = Math.min(ms * 2, this.o.maxMs);
    return this.o.jitter ? ms - Math.random() * this.o.jitter * ms : ms;
  }

  /** The dependency answered: the next failure starts from `firstMs` again. */
  reset(): void {
    this.current = this.o.firstMs;
  }
}

export interface RetryOptions extends BackoffOptions {
  /** Ends the loop, during an attempt's pause too; the attempt under way is not interrupted. */
  readonly signal?: AbortSignal;
  /** Told of each failed attempt (counted from 0) and how long the loop pauses before the next. */
  readonly onFailure?: (err: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Run `attempt` until it resolves, pausing with a back-off after each failure. Resolves true once
 * an attempt succeeded, false when `signal` aborted first; never rejects. The pauses never keep
 * the process alive by themselves.
 */
export async function retryUntil(attempt: (n: number) => Promise<void>, o: RetryOptions): Promise<boolean> {
  const backoff = new Backoff(o);
  for (let n = 0; !o.signal?.aborted; n++) {
    try {
      await attempt(n);
      return true;
    } catch (err) {
      if (o.signal?.aborted) break;
      const ms = backoff.next();
      o.onFailure?.(err, n, ms);
      await pause(ms, o.signal);
    }
  }
  return false;
}
