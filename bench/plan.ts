/**
 * The load plan the tool-call benches share (bench/run.ts, bench/envoy.ts), so their figures are
 * measured the same way and can be read side by side: the knobs, keep-alive pools, the three
 * kinds of load per scenario, and the closing warning and JSON file.
 *
 * Knobs (env): BENCH_GATEWAY_NODE_FLAGS and BENCH_CPU_PROF (see gatewayNodeFlags), BENCH_CONCURRENCY (default "1,8"; the last is the saturation load),
 * BENCH_REQUESTS (4000), BENCH_WARMUP (500), BENCH_MAX_MS per closed-loop phase (10000);
 * BENCH_RATE req/s for tool calls (500), BENCH_RATE_MS measured per fixed-rate phase (3000)
 * after BENCH_RATE_WARMUP_MS (1000), BENCH_MAX_OUTSTANDING in-flight cap at a fixed rate (64;
 * beyond it requests are dropped and count as errors).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { cpuDuring } from './cpu.js';
import { runLoad, type LoadOptions } from './load.js';
import { runRate, type RateOptions } from './rate.js';
import { TARGETS, type Row, type Side, type Verdict } from './report.js';
import type { Target } from './targets.js';

/** A numeric knob from the environment. */
export const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);

const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);

/** The knobs, read once. */
export const plan = {
  concurrencies,
  /** The closed-loop concurrency the throughput target is judged at. */
  saturation: concurrencies[concurrencies.length - 1]!,
  closed: { warmup: env('BENCH_WARMUP', 500), requests: env('BENCH_REQUESTS', 4000), maxMs: env('BENCH_MAX_MS', 10_000) },
  rate: { warmupMs: env('BENCH_RATE_WARMUP_MS', 1000), ms: env('BENCH_RATE_MS', 3000), maxOutstanding: env('BENCH_MAX_OUTSTANDING', 64), drainMs: 2000 },
  /** Fixed rate for tool calls, req/s. */
  callRate: env('BENCH_RATE', 500),
} as const;

/** Where the benches write their JSON (dist/, beside the compiled bench). */
export const distDir = fileURLToPath(new URL('..', import.meta.url));

/**
 * Node flags for the gateway child: a V8 CPU profile under dist/bench-prof/ with BENCH_CPU_PROF=1,
 * and BENCH_GATEWAY_NODE_FLAGS (space-separated, e.g. "--max-semi-space-size=32") to measure a
 * runtime setting against the default in the same conditions.
 */
export const gatewayNodeFlags: readonly string[] = [
  ...(process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${distDir}bench-prof`] : []),
  ...(process.env.BENCH_GATEWAY_NODE_FLAGS ?? '').split(' ').filter(Boolean),
];

const pools: Pool[] = [];

/**
 * One keep-alive pool per origin, as wide as the highest concurrency so no closed-loop request
 * waits for a socket. At a fixed rate more than that in flight means the target has stalled;
 * the extra requests then queue here, and that wait counts (latency is from the due time).
 */
export function poolFor(url: string): { pool: Pool; path: string } {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: Math.max(...plan.concurrencies), keepAliveTimeout: 60_000 });
  pools.push(pool);
  return { pool, path: u.pathname };
}

/** Close every pool {@link poolFor} opened. */
export async function closePools(): Promise<void> {
  await Promise.allSettled(pools.map((p) => p.close()));
}

/**
 * One scenario, every side under the same load, side after side so they never compete for the
 * CPU: closed loop at the low concurrencies (the unloaded cost of a hop), the fixed rate (where
 * latency targets are judged), closed loop at saturation (where throughput is judged).
 * Prints a dot per load level. With `cpu` (process name → pid), the saturation rows also carry
 * each process's CPU per call (bench/cpu.ts).
 */
export async function measure(
  scenario: string,
  sides: ReadonlyArray<readonly [Side, Target]>,
  opts: { rate: number; requests?: number; cpu?: Readonly<Record<string, number | undefined>> },
): Promise<Row[]> {
  const rows: Row[] = [];
  const closed = async (concurrency: number): Promise<void> => {
    const o: LoadOptions = { ...plan.closed, concurrency, requests: opts.requests ?? plan.closed.requests };
    // CPU per call is read at saturation, where it is what caps throughput, over the very requests that row counts.
    const reading = opts.cpu && concurrency === plan.saturation ? opts.cpu : undefined;
    for (const [side, tg] of sides) {
      let ms: Record<string, number> | undefined;
      const summary = await runLoad(tg, o, reading && (async (phase) => void (ms = await cpuDuring(reading, phase))));
      const cpuUs = ms && Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, (v * 1000) / summary.count]));
      rows.push({ scenario, side, mode: 'closed', load: concurrency, label: tg.label, summary, ...(cpuUs && { cpuUs }) });
    }
    process.stdout.write('.');
  };
  for (const c of plan.concurrencies.slice(0, -1)) await closed(c);
  const o: RateOptions = { ...plan.rate, rate: opts.rate };
  for (const [side, tg] of sides) {
    const r = await runRate(tg, o);
    rows.push({ scenario, side, mode: 'rate', load: o.rate, label: tg.label, summary: r.summary, lagP99: r.lagP99 });
  }
  process.stdout.write('.');
  await closed(plan.saturation);
  return rows;
}

/** A warning when the load generator itself fell behind schedule, i.e. the machine was busy. */
export function lagWarning(rows: readonly Row[]): string | undefined {
  const lagged = rows.filter((r) => (r.lagP99 ?? 0) > 1).map((r) => `${r.scenario} ${r.side}`);
  if (!lagged.length) return undefined;
  return `\nWARNING: the load generator itself sent >1 ms late at p99 on ${lagged.join(', ')}: this process was starved of CPU (load average now ${loadavg()[0]!.toFixed(1)} on ${cpus().length} CPUs), so those p99s include machine noise.`;
}

/** Write `dist/<name>` with the plan, the rows and the verdicts (a list, or lists by name); returns the path. */
export function writeResults(name: string, extra: Record<string, unknown>, rows: readonly Row[], verdicts: readonly Verdict[] | Record<string, readonly Verdict[]>): string {
  const out = `${distDir}${name}`;
  mkdirSync(distDir, { recursive: true });
  const { concurrencies: c, closed, rate, callRate } = plan;
  const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadavg: loadavg(), concurrencies: c, ...closed, callRate, ...rate, targets: TARGETS, ...extra };
  writeFileSync(out, `${JSON.stringify({ meta, rows, verdicts }, null, 2)}\n`);
  return out;
}
