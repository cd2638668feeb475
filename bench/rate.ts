/**
 * Open-loop (fixed-rate) load: requests go out on a fixed schedule whatever the target does,
 * the way independent clients arrive. This is the "moderate load" the latency targets mean;
 * closed-loop load at a high concurrency on a 2-core machine measures queueing instead
 * (latency ≈ concurrency / throughput).
 *
 * - Drift-free: request i is due at `start + i / rate`, computed from the start, never from
 *   the previous send, so timer lateness does not stretch the run or lower the rate.
 * - No coordinated omission: a request sent late is timed from when it was due, so a stall
 *   in the target (or in this process) shows up in the latency of every request it delayed.
 * - Cheap timing: Node timers have millisecond granularity and fire up to ~1 ms late, and
 *   spinning on `setImmediate` to do better would burn the CPU the gateway needs on a small
 *   machine. So the timer is armed `early` ms ahead and everything due by then is sent at
 *   once: a send is up to `early` ms early (timed from the actual send, so it is not flattered)
 *   and rarely late (timed from its due time). Each row reports the p99 send lag, i.e. how
 *   far behind schedule this process itself fell.
 * - Bounded: a warm-up at the same rate, then a measured phase of `ms`; at most
 *   `maxOutstanding` requests in flight (a due request beyond that is dropped and counted as
 *   an error), and whatever has not answered `drainMs` after the last send counts as an error.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { percentile, summarize, type Summary } from './stats.js';
import type { Target } from './targets.js';

export interface RateOptions {
  /** Requests per second offered. */
  readonly rate: number;
  /** Length of the unmeasured warm-up at the same rate (JIT, connections, caches). */
  readonly warmupMs: number;
  /** Length of the measured phase. */
  readonly ms: number;
  /** Most requests in flight at once; a due request beyond that is dropped (an error). */
  readonly maxOutstanding: number;
  /** How long to wait for stragglers after the last send before counting them as errors. */
  readonly drainMs: number;
}

export interface RateResult {
  readonly summary: Summary;
  /** Requests not sent because `maxOutstanding` were already in flight, or not answered in time. */
  readonly dropped: number;
  /** p99 of how late this process sent requests (ms after their due time; 0 if early). */
  readonly lagP99: number;
}

async function phase(target: Target, o: RateOptions, ms: number) {
  const interval = 1000 / o.rate;
  const early = Math.min(1, interval / 2);
  const count = Math.max(1, Math.floor((o.rate * ms) / 1000));
  const lat = new Float64Array(count);
  const lag = new Float64Array(count);
  let sent = 0;
  let done = 0;
  let errors = 0;
  let dropped = 0;
  let bytes = 0;
  let closed = false;
  let last = 0;
  const inflight = new Set<Promise<void>>();

  const fire = (due: number): void => {
    const at = performance.now();
    lag[sent++] = Math.max(0, at - due);
    const from = Math.min(at, due); // early: from the actual send; late: from the due time
    const p: Promise<void> = target
      .send()
      .then(
        (r) => ({ ok: r.ok, bytes: r.bytes }),
        () => ({ ok: false, bytes: 0 }),
      )
      .then((r) => {
        inflight.delete(p);
        if (closed) return;
        last = performance.now();
        lat[done++] = last - from;
        bytes += r.bytes;
        if (!r.ok) errors++;
      });
    inflight.add(p);
  };

  const start = performance.now();
  let i = 0;
  while (i < count) {
    const now = performance.now();
    for (; i < count && start + i * interval <= now + early; i++) {
      if (inflight.size >= o.maxOutstanding) dropped++;
      else fire(start + i * interval);
    }
    if (i < count) await sleep(Math.max(0, start + i * interval - early - performance.now()));
  }
  await Promise.race([Promise.all(inflight), sleep(o.drainMs)]);
  closed = true;
  dropped += inflight.size;
  const seconds = (Math.max(last, start + ms) - start) / 1000;
  return { lat: lat.subarray(0, done), lag: lag.subarray(0, sent), errors, dropped, seconds, bytes };
}

/** Warm up at the rate, then measure at the same rate. */
export async function runRate(target: Target, o: RateOptions): Promise<RateResult> {
  if (o.warmupMs > 0) await phase(target, o, o.warmupMs);
  const r = await phase(target, o, o.ms);
  const lag = r.lag.slice().sort();
  return { summary: summarize(r.lat, r.errors + r.dropped, r.seconds, r.bytes), dropped: r.dropped, lagP99: percentile(lag, 99) };
}
