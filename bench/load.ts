/**
 * Closed-loop load: `concurrency` workers each send the next request as soon as the previous
 * one is answered. Bounded by both a request count and a time limit so a slow or wedged
 * target cannot make the bench run forever. Latency per request is measured with
 * `process.hrtime.bigint()` from just before sending to the last byte of the body.
 * The bench uses it for the unloaded cost of one hop (c=1) and for maximum throughput at
 * saturation; latency under moderate load comes from the fixed-rate runner in rate.ts.
 */
import { summarize, type Summary } from './stats.js';
import type { Target } from './targets.js';

export interface LoadOptions {
  readonly concurrency: number;
  /** Requests sent and discarded first (JIT, connection setup, caches). */
  readonly warmup: number;
  /** Requests measured. */
  readonly requests: number;
  /** Hard limit for the measured phase, in milliseconds. */
  readonly maxMs: number;
}

async function drive(target: Target, concurrency: number, count: number, maxMs: number, record: boolean) {
  const lat = new Float64Array(count);
  let issued = 0;
  let done = 0;
  let errors = 0;
  let bytes = 0;
  const deadline = process.hrtime.bigint() + BigInt(maxMs) * 1_000_000n;
  const worker = async (): Promise<void> => {
    while (issued < count) {
      issued++;
      const t0 = process.hrtime.bigint();
      if (t0 > deadline) return;
      let ok = false;
      try {
        const r = await target.send();
        ok = r.ok;
        bytes += r.bytes;
      } catch {
        ok = false;
      }
      const t1 = process.hrtime.bigint();
      if (!ok) errors++;
      if (record) lat[done] = Number(t1 - t0) / 1e6;
      done++;
    }
  };
  const start = process.hrtime.bigint();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { lat: lat.subarray(0, done), errors, seconds, bytes };
}

/**
 * Warm up, then measure. `during` wraps the measured phase alone, so a reading taken around it
 * (CPU from /proc, bench/cpu.ts) covers exactly the requests the summary counts.
 */
export async function runLoad(target: Target, opts: LoadOptions, during: (phase: () => Promise<void>) => Promise<void> = (phase) => phase()): Promise<Summary> {
  await drive(target, opts.concurrency, opts.warmup, opts.maxMs, false);
  let r: Awaited<ReturnType<typeof drive>> | undefined;
  await during(async () => void (r = await drive(target, opts.concurrency, opts.requests, opts.maxMs, true)));
  if (!r) throw new Error(`${target.label}: the measured phase did not run`);
  return summarize(r.lat, r.errors, r.seconds, r.bytes);
}
