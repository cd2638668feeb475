/**
 * `npm run bench:events` (also part of `npm run bench`): what event ids and the event store cost
 * a streamed `tools/call` (SSE: four notifications and the result). Gateways in one child
 * process, identical but for `events.store`: `off` (the code path without ids: the baseline),
 * `memory`, and `hazelcast` against a real member (skipped with a note when the Hazelcast jar is
 * not installed), in front of the same orders REST API (another child); this process is the load
 * generator. Rounds rotate which side goes first; medians over rounds are reported, as ratios to
 * `off`, with the gateway child's CPU time per call.
 *
 * Knobs (env): BENCH_EVENTS_ROUNDS (5), BENCH_EVENTS_REQUESTS (1500 per side and round),
 * BENCH_EVENTS_WARMUP (300), BENCH_EVENTS_CONCURRENCY (8, the saturated run).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'undici';
import { hazelcastJar } from '../test/harness/components.js';
import { startHazelcast, type HazelcastHandle } from '../test/harness/hazelcast.js';
import { startChild, type Child } from './children.js';
import { forkGateways, measureRounds, sessionTargets, stopGateways, type SideSample } from './gateway-child.js';
import { installed } from './installed.js';
import { env } from './plan.js';
import { median } from './stats.js';
import { restStream } from './targets.js';

const ROUNDS = env('BENCH_EVENTS_ROUNDS', 5);
const REQUESTS = env('BENCH_EVENTS_REQUESTS', 1500);
const WARMUP = env('BENCH_EVENTS_WARMUP', 300);
const SATURATION = env('BENCH_EVENTS_CONCURRENCY', 8);
const GATEWAYS = fileURLToPath(new URL('./events-gateways.js', import.meta.url));

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  let backends: Child | undefined;
  let gateways: ChildProcess | undefined;
  let member: HazelcastHandle | undefined;
  const pools: Pool[] = [];
  try {
    const cluster = `bench-events-${randomUUID()}`;
    if (installed(hazelcastJar)) member = await startHazelcast({ clusterName: cluster });
    else console.log('\nevents bench: the Hazelcast jar is not installed (bash scripts/install-components.sh hazelcast); measuring off and memory only');
    backends = await startChild(['backends']);
    const started = await forkGateways(GATEWAYS, [backends.urls.orders!, ...(member ? [cluster, member.address] : [])], 'events gateways');
    gateways = started.child;
    const sides = Object.keys(started.urls);
    const targets = await sessionTargets(started.urls, SATURATION, pools, restStream);
    console.log(`\nevents bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds × ${REQUESTS} calls per side (after ${WARMUP} warm-up)`);
    const samples = await measureRounds(gateways, targets, { rounds: ROUNDS, concurrencies: [1, SATURATION], warmup: WARMUP, requests: REQUESTS });
    const med = (key: string, pick: (s: SideSample) => number): number => median(samples[key]!.map(pick));
    console.log('tools/call orders_track_order (REST, SSE: 4 notifications + result), gateways identical but for events.store; medians over rounds');
    console.log('side                 p50 ms   p99 ms  mean ms     req/s   gateway CPU µs/call   vs off: p50  mean  req/s  CPU');
    for (const concurrency of [1, SATURATION]) {
      const base = `off@${concurrency}`;
      for (const side of sides) {
        const k = `${side}@${concurrency}`;
        const ratio = (pick: (s: SideSample) => number): string => f(med(k, pick) / med(base, pick), 2).padStart(5);
        console.log(
          `c=${concurrency} ${side.padEnd(10)} ${f(med(k, (s) => s.summary.p50)).padStart(8)} ${f(med(k, (s) => s.summary.p99)).padStart(8)} ${f(med(k, (s) => s.summary.mean)).padStart(8)} ${f(med(k, (s) => s.summary.rps), 0).padStart(9)} ${f(med(k, (s) => s.cpuUs), 1).padStart(21)}` +
            `        ${ratio((s) => s.summary.p50)} ${ratio((s) => s.summary.mean)}  ${ratio((s) => s.summary.rps)} ${ratio((s) => s.cpuUs)}`,
        );
      }
    }
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    await stopGateways(gateways);
    await backends?.stop();
    await member?.stop();
  }
}

main().catch((err: unknown) => {
  console.error('events bench failed:', err);
  process.exitCode = 1;
});
