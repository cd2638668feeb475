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
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startChild, type Child } from './children.js';
import { runLoad } from './load.js';
import { openSession } from './mcp-session.js';
import { env } from './plan.js';
import { median, type Summary } from './stats.js';
import { restGateway, type Target } from './targets.js';

const ROUNDS = env('BENCH_AUDIT_ROUNDS', 5);
const REQUESTS = env('BENCH_AUDIT_REQUESTS', 2000);
const WARMUP = env('BENCH_AUDIT_WARMUP', 300);
const SATURATION = env('BENCH_AUDIT_CONCURRENCY', 8);
const GATEWAYS = fileURLToPath(new URL('./audit-gateways.js', import.meta.url));

type Side = 'off' | 'file';
interface Sample {
  readonly summary: Summary;
  /** Gateway process CPU (user + system) per call, in microseconds. */
  readonly cpuUs: number;
  readonly auditBytes: number;
}

/** Fork the gateways child and wait for its URLs. */
async function startGateways(ordersUrl: string, auditFile: string): Promise<{ child: ChildProcess; urls: Record<Side, string> }> {
  const child = fork(GATEWAYS, [ordersUrl, auditFile], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const urls = await new Promise<Record<Side, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('audit gateways not ready in 20 s')), 20_000);
    child.once('exit', (code) => reject(new Error(`audit gateways exited with code ${code}`)));
    child.on('message', (m: { type?: string; urls?: Record<Side, string> }) => {
      if (m?.type !== 'ready' || !m.urls) return;
      clearTimeout(timer);
      resolve(m.urls);
    });
  });
  return { child, urls };
}

function usage(child: ChildProcess): Promise<{ us: number; auditBytes: number }> {
  return new Promise((resolve) => {
    const on = (m: { type?: string; usage?: NodeJS.CpuUsage; auditBytes?: number }): void => {
      if (m?.type !== 'cpu' || !m.usage) return;
      child.off('message', on);
      resolve({ us: m.usage.user + m.usage.system, auditBytes: m.auditBytes ?? 0 });
    };
    child.on('message', on);
    child.send({ type: 'cpu' });
  });
}

async function measure(child: ChildProcess, target: Target, concurrency: number): Promise<Sample> {
  const before = await usage(child);
  const summary = await runLoad(target, { concurrency, warmup: WARMUP, requests: REQUESTS, maxMs: 20_000 });
  const after = await usage(child);
  const calls = WARMUP + summary.count;
  return { summary, cpuUs: (after.us - before.us) / calls, auditBytes: (after.auditBytes - before.auditBytes) / calls };
}

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'gw-bench-audit-'));
  let backends: Child | undefined;
  let gateways: ChildProcess | undefined;
  const pools: Pool[] = [];
  try {
    backends = await startChild(['backends']);
    const started = await startGateways(backends.urls.orders!, join(dir, 'audit.jsonl'));
    gateways = started.child;
    const targets = {} as Record<Side, Target>;
    for (const side of ['off', 'file'] as const) {
      const u = new URL(started.urls[side]);
      const pool = new Pool(u.origin, { connections: SATURATION, keepAliveTimeout: 60_000 });
      pools.push(pool);
      targets[side] = restGateway(pool, u.pathname, await openSession(pool, u.pathname));
      await targets[side].verify();
    }
    console.log(`\naudit bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds × ${REQUESTS} calls per side (after ${WARMUP} warm-up)`);
    const samples: Record<string, Sample[]> = {};
    for (const concurrency of [1, SATURATION]) {
      for (let r = 0; r < ROUNDS; r++) {
        const order: Side[] = r % 2 === 0 ? ['off', 'file'] : ['file', 'off'];
        for (const side of order) (samples[`${side}@${concurrency}`] ??= []).push(await measure(gateways, targets[side], concurrency));
        process.stdout.write('.');
      }
    }
    process.stdout.write('\n');
    const med = (key: string, pick: (s: Sample) => number): number => median(samples[key]!.map(pick));
    console.log('tools/call orders_get_order (REST), gateways identical but for audit.sink; medians over rounds');
    console.log('side             p50 ms   p99 ms  mean ms     req/s   gateway CPU µs/call   audit bytes/call');
    for (const concurrency of [1, SATURATION]) {
      for (const side of ['off', 'file'] as const) {
        const k = `${side}@${concurrency}`;
        console.log(
          `c=${concurrency} audit ${side.padEnd(4)} ${f(med(k, (s) => s.summary.p50)).padStart(8)} ${f(med(k, (s) => s.summary.p99)).padStart(8)} ${f(med(k, (s) => s.summary.mean)).padStart(8)} ${f(med(k, (s) => s.summary.rps), 0).padStart(9)} ${f(med(k, (s) => s.cpuUs), 1).padStart(21)} ${f(med(k, (s) => s.auditBytes), 0).padStart(18)}`,
        );
      }
    }
    const d = (pick: (s: Sample) => number, c: number): number => med(`file@${c}`, pick) - med(`off@${c}`, pick);
    const cpuOff = med(`off@1`, (s) => s.cpuUs);
    const ratio = med(`file@${SATURATION}`, (s) => s.summary.rps) / med(`off@${SATURATION}`, (s) => s.summary.rps);
    console.log(
      `cost of auditing to a file: ${f(d((s) => s.cpuUs, 1), 1)} µs gateway CPU per call (${f((100 * d((s) => s.cpuUs, 1)) / cpuOff, 1)}%), ` +
        `${f(d((s) => s.summary.p50, 1) * 1000, 0)} µs added p50 and ${f(d((s) => s.summary.mean, 1) * 1000, 0)} µs added mean at c=1; ` +
        `throughput at c=${SATURATION}: ${f(ratio, 2)}× of audit off`,
    );
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    if (gateways && gateways.exitCode === null) {
      const exited = new Promise((r) => gateways!.once('exit', r));
      gateways.send({ type: 'stop' });
      await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
      gateways.kill('SIGKILL');
    }
    await backends?.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error('audit bench failed:', err);
  process.exitCode = 1;
});
