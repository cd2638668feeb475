/**
 * `npm run bench:envoy`: what the Envoy topology adds, in one run, for each kind of call issue 15
 * names (the scenarios, bench/envoy-scenarios.ts):
 *   mcp        a session-era client's native `tools/call` of an SDK 1.x echo backend, which Envoy
 *              routes straight to the backend's xDS cluster;
 *   stateless  a 2026-07-28 client's `tools/call` of a 2026-07-28 SDK 2.4 echo backend (no session,
 *              method and tool in headers; routed after two ext_proc messages instead of three);
 *   bridged    that client's call of the session-era backend, which the broker carries across eras;
 *   rest       a REST call: the orders API's GET /orders/1001, through the topology the
 *              `orders_get_order` tool (`kind: rest`) called as `tools/call`, which the broker translates;
 *   list       `tools/list`: the echo backend's own, through the topology the broker's aggregated catalog.
 * Each is measured on up to four sides:
 *   direct   the backend itself (no proxy);
 *   envoy    a plain Envoy in front of it (router only): what Envoy itself costs;
 *   noop     the same Envoy with envoy/envoy.yaml's ext_proc filter calling a do-nothing ext_proc
 *            service (bench/noop-extproc.ts): what the ext_proc round trips themselves cost;
 *   gateway  envoy/envoy.yaml in front of the gateway process (ext_proc + broker + xDS).
 * Each side gets closed loop at the low concurrencies, a fixed rate (p50/p99) and closed loop at
 * saturation (throughput), with each process's CPU per call read from /proc over the saturation
 * pass (bench/cpu.ts). Before measuring, Envoy's counters around 200 calls of each kind give its
 * ext_proc round trips and broker requests per call (bench/envoy-counters.ts). The targets are
 * judged on gateway over plain Envoy (added p50/p99 at the fixed rate, throughput ratio at
 * saturation); the other pairs are printed for context, one block per scenario.
 *
 * Process layout as in bench/run.ts: backends in one child, the gateway (and the do-nothing
 * ext_proc) in another, each Envoy its own process, the load generator here. Knobs: those of
 * bench/plan.ts (BENCH_REQUESTS, BENCH_WARMUP, BENCH_RATE_MS… shorten a run),
 * BENCH_ENVOY_SCENARIOS (comma list of mcp,stateless,bridged,rest,list; default all),
 * BENCH_STATELESS_RATE (the 2026-07-28 scenarios' fixed rate, default 200/s),
 * BENCH_NOOP_ROUND_TRIPS=1 (the do-nothing side with one message per call, the buffered body alone, instead of two),
 * and BENCH_CPU_PROF=1 to write a V8 CPU profile of the gateway process (ext_proc, broker, xDS,
 * and the noop ext_proc) under dist/bench-prof/ (`node dist/bench/prof-summary.js <file>`).
 * Skipped with a note when Envoy is not installed.
 */
import { cpus, loadavg } from 'node:os';
import { envoyBin } from '../test/harness/components.js';
import { clusterName } from '../src/xds/clusters.js';
import { startChild, type Child } from './children.js';
import { envoyPid } from './cpu.js';
import { brief, envoyStats, perStream, roundTrips, type RoundTrips } from './envoy-counters.js';
import { cpuTable, scenarioBlock } from './envoy-report.js';
import { buildScenarios, chosenScenarios, type Scenario } from './envoy-scenarios.js';
import { healthyHosts, startPlainEnvoy, startTopologyEnvoy, until, type BenchEnvoy } from './envoys.js';
import { installed } from './installed.js';
import { closePools, gatewayNodeFlags, lagWarning, measure, plan, writeResults } from './plan.js';
import { legend, table, type Row, type Side, type Verdict } from './report.js';

const ECHO_CLUSTER = clusterName('echo');
const MODERN_CLUSTER = clusterName('modern');

/** Round trips per call of each counted side of `s`. */
async function countTrips(s: Scenario): Promise<Partial<Record<Side, RoundTrips>>> {
  const out: Partial<Record<Side, RoundTrips>> = {};
  for (const [side, tg] of s.sides) {
    const envoy = s.counted[side];
    if (envoy) out[side] = await roundTrips(envoy, tg);
  }
  return out;
}

/** The lines over a scenario's verdict block: what it calls, at which rate, and Envoy's counts per call. */
function heading(s: Scenario, trips: Partial<Record<Side, RoundTrips>>): string[] {
  const counts = Object.entries(trips).map(([side, r]) => `${side} ${r.perCall.toFixed(2)}`).join(', ');
  const broker = trips.gateway ? `; broker requests per gateway call ${trips.gateway.broker.toFixed(2)}` : '';
  // Pipelined (envoy.yaml), the body follows the headers without waiting: two messages, one round trip.
  return [`\n${s.name}: ${s.about}`, `  fixed rate ${s.rate}/s; ext_proc messages per call (request headers and body are one round trip): ${counts || '-'}${broker}`];
}

async function main(): Promise<void> {
  if (!installed(envoyBin)) {
    console.log('bench envoy: skipped, Envoy is not installed (bash scripts/install-components.sh)');
    return;
  }
  const chosen = chosenScenarios();
  const started = Date.now();
  const children: Child[] = [];
  const envoys: BenchEnvoy[] = [];
  const keep = (e: BenchEnvoy): BenchEnvoy => (envoys.push(e), e);
  try {
    const backends = await startChild(['backends']);
    children.push(backends);
    const gateway = await startChild(['extproc', JSON.stringify(backends.urls)], gatewayNodeFlags);
    children.push(gateway);
    // One plain Envoy (and one with the do-nothing ext_proc) serves both the echo backend and, under /orders/, the REST API.
    const also = [{ name: 'orders', prefix: '/orders/', url: backends.urls.orders! }];
    const plain = keep(await startPlainEnvoy(backends.urls.echo!, { also }));
    const noop = keep(await startPlainEnvoy(backends.urls.echo!, { extproc: gateway.urls.noop!, also }));
    const topo = keep(await startTopologyEnvoy(gateway.urls));
    const plainStateless = keep(await startPlainEnvoy(backends.urls.stateless!));
    console.log(`bench envoy: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; backends pid ${backends.pid}, gateway pid ${gateway.pid}; scenarios ${chosen.join(', ')}`);
    // Envoy learns the backends' clusters over xDS and the gateway discovers their tools (and eras)
    // in the background: measure only once all are there.
    await until(`Envoy to know ${ECHO_CLUSTER} and ${MODERN_CLUSTER}`, async () => (await healthyHosts(topo.envoy.adminUrl, ECHO_CLUSTER)) === 1 && (await healthyHosts(topo.envoy.adminUrl, MODERN_CLUSTER)) === 1);
    const scenarios = await buildScenarios({ backends: backends.urls, plain, noop, plainStateless, topo }, chosen);
    const gatewaySides = scenarios.flatMap((s) => s.sides.filter(([side]) => side === 'gateway').map(([, tg]) => tg));
    await until('the gateway to serve every scenario\'s call', async () => {
      for (const tg of gatewaySides) await tg.verify();
      return true;
    });
    // bridged shares its plain Envoy side with mcp: each target is checked once.
    for (const tg of new Set(scenarios.flatMap((s) => s.sides.map(([, target]) => target)))) console.log(`  check: ${tg.label} -> ${(await tg.verify()).note}`);
    const trips: Record<string, Partial<Record<Side, RoundTrips>>> = {};
    for (const s of scenarios) trips[s.name] = await countTrips(s);

    const pids = {
      backend: backends.pid,
      'envoy-plain': await envoyPid(plain.envoy.adminUrl),
      'envoy-plain-s': await envoyPid(plainStateless.envoy.adminUrl),
      'envoy-noop': await envoyPid(noop.envoy.adminUrl),
      'envoy-topo': await envoyPid(topo.envoy.adminUrl),
      'gw-process': gateway.pid,
    };
    const rows: Row[] = [];
    for (const s of scenarios) rows.push(...(await measure(s.name, s.sides, { rate: s.rate, cpu: pids })));
    process.stdout.write('\n\n');

    console.log(table(rows));
    console.log(legend(rows));
    console.log(`\nPer scenario, each pair of sides: added p50/p99 (ms) below saturation and at the fixed rate, throughput ratio at closed loop c=${plan.saturation}.`);
    console.log(`Judged (met / NOT MET): Envoy + gateway vs plain Envoy, added p50/p99 at the fixed rate and the throughput ratio at saturation; the other pairs are context.`);
    console.log(`The stateless throughput ratio is bounded by its backend when the SDK 2.4 server saturates first (compare its direct row).`);
    const byPair: Record<string, Verdict[]> = {};
    for (const s of scenarios) {
      const block = scenarioBlock(heading(s, trips[s.name]!), rows.filter((r) => r.scenario === s.name), plan.saturation);
      console.log(block.text);
      for (const [pair, list] of Object.entries(block.byPair)) (byPair[pair] ??= []).push(...list);
    }
    const lagged = lagWarning(rows);
    if (lagged) console.log(lagged);

    const envoyView = await envoyStats(plain, noop, topo);
    console.log(`\nEnvoy's counters over the whole run (histograms in ms, bucketed, all loads together):`);
    for (const [name, lines] of Object.entries(envoyView)) for (const l of lines) console.log(`  ${name.padEnd(8)} ${brief(l)}`);
    console.log(`  ${perStream(envoyView.topology)}`);

    console.log(`\nCPU per call (µs) of each process over each side's closed-loop pass at c=${plan.saturation} (/proc, 10 ms ticks; envoy-plain serves echo and /orders/, envoy-plain-s the 2026-07-28 backend; the noop side's ext_proc runs in gw-process):`);
    console.log(cpuTable(rows));

    const judged = Object.values(byPair).flat().filter((v) => v.judged);
    console.log(`\n${judged.filter((v) => v.met).length}/${judged.length} targets met (latency at the fixed rates; throughput at c=${plan.saturation}); load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}; run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    const cpuPerCallUs = Object.fromEntries(rows.filter((r) => r.cpuUs).map((r) => [`${r.scenario} ${r.side}`, r.cpuUs]));
    console.log(`results written to ${writeResults('bench-envoy-results.json', { scenarios: chosen, envoyStats: envoyView, cpuPerCallUs, extprocRoundTrips: trips }, rows, { judged, ...byPair })}`);
  } finally {
    await closePools();
    await Promise.allSettled(envoys.reverse().map((e) => e.envoy.stop()));
    await Promise.allSettled(children.reverse().map((c) => c.stop()));
  }
}

main().catch((err: unknown) => {
  console.error('bench envoy failed:', err);
  process.exitCode = 1;
});
