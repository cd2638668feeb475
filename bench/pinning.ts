/**
 * `npm run bench:pinning` (also part of `npm run bench`): what pinned tool definitions cost a
 * `tools/list` of 1,000 tools (20 REST backends × 50, one page). Two gateways in one child
 * process (bench/pinning-gateways.ts), identical but for `pinning.mode`: `off`, and
 * `trust-on-first-use` with all 1,000 approved at the first build; this process is the load
 * generator. Rounds alternate which side goes first; medians over rounds, each figure also as a
 * ratio to pinning off in the same run.
 *
 * Pinning judges each catalog build, never a request (docs/tool-pinning.md), so the listing
 * ratios should be 1 within noise; where the check does cost is measured after, in process: a
 * snapshot rebuild of the same 1,000 tools with and without the review, and the digests of 1,000
 * definitions seen for the first time (what a rediscovery that returns new objects pays).
 *
 * Knobs (env): BENCH_PINNING_ROUNDS (5), BENCH_PINNING_REQUESTS (500 per side and round),
 * BENCH_PINNING_WARMUP (100), BENCH_PINNING_CONCURRENCY (8, the saturated run).
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Pool } from 'undici';
import { definitionDigest } from '../src/pinning/digest.js';
import { runStandalone } from '../src/standalone/run.js';
import { startChild, type Child } from './children.js';
import { LIST_BACKENDS, listingConfig, PINNING_ON, TOOLS_PER_BACKEND } from './configs.js';
import { forkGateways, measureRounds, sessionTargets, stopGateways } from './gateway-child.js';
import { env } from './plan.js';
import { ratioLine, roundsTable } from './rounds-table.js';
import { median } from './stats.js';
import { listPage } from './targets.js';

const ROUNDS = env('BENCH_PINNING_ROUNDS', 5);
const REQUESTS = env('BENCH_PINNING_REQUESTS', 500);
const WARMUP = env('BENCH_PINNING_WARMUP', 100);
const SATURATION = env('BENCH_PINNING_CONCURRENCY', 8);
const TOOLS = LIST_BACKENDS * TOOLS_PER_BACKEND;
const GATEWAYS = fileURLToPath(new URL('./pinning-gateways.js', import.meta.url));

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  let backends: Child | undefined;
  let gateways: ChildProcess | undefined;
  const pools: Pool[] = [];
  try {
    backends = await startChild(['backends']);
    const started = await forkGateways(GATEWAYS, [backends.urls.stub!], 'pinning gateways');
    gateways = started.child;
    // The check of each side: all 1,000 tools on one page, so the pinned side hides none.
    const targets = await sessionTargets(started.urls, SATURATION, pools, (pool, path, session) => listPage(`tools/list ${TOOLS} tools`, pool, path, session, 'tools', TOOLS, false));
    console.log(`\npinning bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds × ${REQUESTS} listings per side (after ${WARMUP} warm-up)`);
    const samples = await measureRounds(gateways, targets, { rounds: ROUNDS, concurrencies: [1, SATURATION], warmup: WARMUP, requests: REQUESTS });
    console.log(`tools/list of ${TOOLS} tools from ${LIST_BACKENDS} REST backends, one page; gateways identical but for pinning.mode (off, trust-on-first-use with all ${TOOLS} approved); medians over rounds`);
    console.log(roundsTable(samples, ['off', 'pinned'], 'off', [1, SATURATION]));
    console.log(`pinned-definition check on tools/list (${TOOLS} tools), as a ratio to the same listing without it: ${ratioLine(samples, 'pinned', 'off', SATURATION)}`);
    await Promise.allSettled(pools.map((p) => p.close()));
    pools.length = 0;
    await stopGateways(gateways);
    gateways = undefined;
    await buildCost(backends.urls.stub!);
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    await stopGateways(gateways);
    await backends?.stop();
  }
}

/**
 * Where the check runs: a rebuild of the catalog snapshot (`Catalog.reapply`, synchronous) of the
 * same 1,000 tools without pinning and with all approved, alternating blocks, medians over blocks;
 * then what digesting 1,000 definitions costs when they are new objects (the digests of known
 * objects are kept).
 */
async function buildCost(stub: string): Promise<void> {
  const off = await runStandalone(listingConfig({ stub }, TOOLS));
  const pinned = await runStandalone(listingConfig({ stub }, TOOLS, PINNING_ON));
  try {
    for (const end = Date.now() + 20_000; pinned.core.catalog.current().tools.size !== TOOLS; await new Promise((r) => setTimeout(r, 25))) {
      if (Date.now() > end) throw new Error('the pinned gateway did not serve all tools in 20 s');
    }
    const perBuild = (gw: typeof off, n: number): number => {
      const start = process.hrtime.bigint();
      for (let i = 0; i < n; i++) gw.core.catalog.reapply();
      return Number(process.hrtime.bigint() - start) / 1e6 / n;
    };
    perBuild(off, 20);
    perBuild(pinned, 20);
    const blocks: Record<'off' | 'pinned', number[]> = { off: [], pinned: [] };
    for (let b = 0; b < 7; b++) {
      blocks.off.push(perBuild(off, 20));
      blocks.pinned.push(perBuild(pinned, 20));
    }
    if (pinned.core.catalog.current().tools.size !== TOOLS || pinned.core.pins?.pending().length) throw new Error('the pinned rebuilds hid or held back tools');
    const o = median(blocks.off);
    const p = median(blocks.pinned);
    console.log(`snapshot rebuild of ${TOOLS} tools in process, medians of 7 × 20 builds: pinning off ${f(o, 2)} ms, all approved ${f(p, 2)} ms (${f(p / o, 3)}×, +${f(p - o, 2)} ms per build)`);
    const definitions = listingConfig({ stub }, TOOLS).backends.flatMap((b) => (b.kind === 'rest' ? b.tools : []));
    const digests: number[] = [];
    for (let b = 0; b < 7; b++) {
      const copies = structuredClone(definitions);
      const start = process.hrtime.bigint();
      for (const d of copies) definitionDigest(d);
      digests.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    console.log(`digests of ${definitions.length} definitions seen for the first time (canonical JSON + SHA-256), median of 7: ${f(median(digests), 2)} ms`);
  } finally {
    await Promise.allSettled([off.stop(), pinned.stop()]);
  }
}

main().catch((err: unknown) => {
  console.error('pinning bench failed:', err);
  process.exitCode = 1;
});
