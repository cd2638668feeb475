/**
 * `npm run bench:audit` (also part of `npm run bench`): what the audit trail costs a `tools/call`.
 * Two gateways in one child process, identical but for `audit.sink` (`off` vs `file`), in front of
 * the same orders REST API (another child); this process is the load generator. Rounds alternate
 * which side goes first, so drift in machine load hits both alike; medians over rounds are
 * reported. Besides client-side latency and throughput, the gateway child's CPU time per call is
 * measured: at c=1 it is the most precise figure for the work auditing adds (building and
 * redacting the event, JSON, the asynchronous file write).
 *
 * Knobs (env): BENCH_AUDIT_ROUNDS (5), BENCH_AUDIT_REQUESTS (2000 per side and round),
 * BENCH_AUDIT_WARMUP (300), BENCH_AUDIT_CONCURRENCY (8, the saturated run).
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'undici';
import { startChild, type Child } from './children.js';
import { forkGateways, measureRounds, sessionTargets, stopGateways, type SideSample } from './gateway-child.js';
import { env } from './plan.js';
import { median } from './stats.js';
import { restGateway } from './targets.js';

const ROUNDS = env('BENCH_AUDIT_ROUNDS', 5);
const REQUESTS = env('BENCH_AUDIT_REQUESTS', 2000);
const WARMUP = env('BENCH_AUDIT_WARMUP', 300);
const SATURATION = env('BENCH_AUDIT_CONCURRENCY', 8);
const GATEWAYS = fileURLToPath(new URL('./audit-gateways.js', import.meta.url));

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-audit-'));
  let backends: Child | undefined;
  let gateways: ChildProcess | undefined;
  const pools: Pool[] = [];
  try {
    backends = await startChild(['backends']);
    const started = await forkGateways(GATEWAYS, [backends.urls.orders!, join(dir, 'audit.jsonl')], 'audit gateways');
    gateways = started.child;
    const targets = await sessionTargets(started.urls, SATURATION, pools, restGateway);
    console.log(`\naudit bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds × ${REQUESTS} calls per side (after ${WARMUP} warm-up)`);
    const samples = await measureRounds(gateways, targets, { rounds: ROUNDS, concurrencies: [1, SATURATION], warmup: WARMUP, requests: REQUESTS });
    const med = (key: string, pick: (s: SideSample) => number): number => median(samples[key]!.map(pick));
    console.log('tools/call orders_get_order (REST), gateways identical but for audit.sink; medians over rounds');
    console.log('side             p50 ms   p99 ms  mean ms     req/s   gateway CPU µs/call   audit bytes/call');
    for (const concurrency of [1, SATURATION]) {
      for (const side of ['off', 'file'] as const) {
        const k = `${side}@${concurrency}`;
        console.log(
          `c=${concurrency} audit ${side.padEnd(4)} ${f(med(k, (s) => s.summary.p50)).padStart(8)} ${f(med(k, (s) => s.summary.p99)).padStart(8)} ${f(med(k, (s) => s.summary.mean)).padStart(8)} ${f(med(k, (s) => s.summary.rps), 0).padStart(9)} ${f(med(k, (s) => s.cpuUs), 1).padStart(21)} ${f(med(k, (s) => s.extra.auditBytes ?? 0), 0).padStart(18)}`,
        );
      }
    }
    const d = (pick: (s: SideSample) => number, c: number): number => med(`file@${c}`, pick) - med(`off@${c}`, pick);
    const cpuOff = med(`off@1`, (s) => s.cpuUs);
    const ratio = med(`file@${SATURATION}`, (s) => s.summary.rps) / med(`off@${SATURATION}`, (s) => s.summary.rps);
    console.log(
      `cost of auditing to a file: ${f(d((s) => s.cpuUs, 1), 1)} µs gateway CPU per call (${f((100 * d((s) => s.cpuUs, 1)) / cpuOff, 1)}%), ` +
        `${f(d((s) => s.summary.p50, 1) * 1000, 0)} µs added p50 and ${f(d((s) => s.summary.mean, 1) * 1000, 0)} µs added mean at c=1; ` +
        `throughput at c=${SATURATION}: ${f(ratio, 2)}× of audit off`,
    );
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    await stopGateways(gateways);
    await backends?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('audit bench failed:', err);
  process.exitCode = 1;
});
