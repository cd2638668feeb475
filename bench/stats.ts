/** Latency summaries. Nearest-rank percentiles: with a few thousand samples p99 is a real observation, not an interpolation. */

export interface Summary {
  readonly count: number;
  readonly errors: number;
  readonly seconds: number;
  readonly rps: number;
  readonly p50: number;
  readonly p90: number;
  readonly p99: number;
  readonly max: number;
  readonly mean: number;
  /** Mean response body size in bytes. */
  readonly bytes: number;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Summarise latencies in milliseconds measured over `seconds` of wall time. */
export function summarize(latMs: Float64Array, errors: number, seconds: number, bytes: number): Summary {
  const sorted = latMs.slice().sort();
  let sum = 0;
  for (const v of sorted) sum += v;
  const n = sorted.length;
  return {
    count: n,
    errors,
    seconds,
    rps: n / seconds,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    max: n ? sorted[n - 1]! : NaN,
    mean: n ? sum / n : NaN,
    bytes: n ? bytes / n : 0,
  };
}

/** The lower median of a few samples (NaN for none). */
export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
}
