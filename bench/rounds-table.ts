/**
 * The table of a bench whose gateways differ in one setting (bench/gateway-child.ts
 * `measureRounds`): per side and concurrency the medians over rounds, and each figure as a ratio
 * to the baseline side measured in the same rounds, which is what such a bench is for.
 */
import type { SideSample } from './gateway-child.js';
import { median } from './stats.js';

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

/** The median over rounds of one figure of `<side>@<concurrency>`. */
export function medianOf(samples: Record<string, SideSample[]>, key: string, pick: (s: SideSample) => number): number {
  return median((samples[key] ?? []).map(pick));
}

/** Figures of a side against the baseline: the side's median over the baseline's (1 = no cost). */
export function ratioTo(samples: Record<string, SideSample[]>, side: string, base: string, concurrency: number, pick: (s: SideSample) => number): number {
  return medianOf(samples, `${side}@${concurrency}`, pick) / medianOf(samples, `${base}@${concurrency}`, pick);
}

/** Printable lines: absolute medians, then p50, p99, req/s and gateway CPU as ratios to `base`. */
export function roundsTable(samples: Record<string, SideSample[]>, sides: readonly string[], base: string, concurrencies: readonly number[]): string {
  const width = Math.max(4, ...sides.map((s) => s.length));
  const lines = [`${'side'.padEnd(width + 5)}   p50 ms   p99 ms  mean ms     req/s   gateway CPU µs/call   vs ${base}: p50   p99  req/s   CPU`];
  for (const c of concurrencies) {
    for (const side of sides) {
      const k = `${side}@${c}`;
      const m = (pick: (s: SideSample) => number): number => medianOf(samples, k, pick);
      const r = (pick: (s: SideSample) => number): string => f(ratioTo(samples, side, base, c, pick), 2).padStart(5);
      lines.push(
        `c=${String(c).padEnd(2)} ${side.padEnd(width)} ${f(m((s) => s.summary.p50)).padStart(8)} ${f(m((s) => s.summary.p99)).padStart(8)} ${f(m((s) => s.summary.mean)).padStart(8)} ${f(m((s) => s.summary.rps), 0).padStart(9)} ${f(m((s) => s.cpuUs), 1).padStart(21)}` +
          `   ${' '.repeat(base.length)}${r((s) => s.summary.p50)} ${r((s) => s.summary.p99)}  ${r((s) => s.summary.rps)} ${r((s) => s.cpuUs)}`,
      );
    }
  }
  return lines.join('\n');
}

/** The ratios a reader wants first: unloaded (c=1) p50, p99 and gateway CPU, saturated throughput and p99. */
export function ratioLine(samples: Record<string, SideSample[]>, side: string, base: string, saturation: number): string {
  const r = (c: number, pick: (s: SideSample) => number): string => f(ratioTo(samples, side, base, c, pick), 3);
  return `p50 ${r(1, (s) => s.summary.p50)}×, p99 ${r(1, (s) => s.summary.p99)}×, gateway CPU per call ${r(1, (s) => s.cpuUs)}× at c=1; throughput at c=${saturation}: ${r(saturation, (s) => s.summary.rps)}×, p99 ${r(saturation, (s) => s.summary.p99)}×`;
}
