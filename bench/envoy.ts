/**
 * `npm run bench:envoy`: what the Envoy topology adds to a native MCP `tools/call`, in one run,
 * the same echo call measured three ways (plus a diagnostic fourth, below), for a session-era
 * client of an SDK 1.x backend (scenario `mcp`) and for a 2026-07-28 client of a 2026-07-28 SDK 2.4
 * backend (scenario `stateless`: no session, method and tool in headers; Envoy routes it to the
 * backend's cluster after two ext_proc messages instead of three), and for that client's call of the
 * session-era backend (scenario `bridged`: the broker carries it across the eras):
 *   direct   the SDK echo backend itself (no proxy);
 *   envoy    a plain Envoy in front of it (router only): what Envoy itself costs;
 *   gateway  envoy/envoy.yaml in front of the gateway process (ext_proc + broker + xDS), the echo
 *            backend a native `kind: mcp` backend, so ext_proc admits each call and Envoy routes
 *            it straight to the backend's xDS cluster.
 * The targets are judged on gateway over plain Envoy (added p50/p99 at the fixed rate, throughput
 * ratio at saturation); plain Envoy over direct is printed for context. To tell where the
 * gateway's added time goes, a fourth side, `noop`, puts the same ext_proc filter in front of
 * plain Envoy's router but calls a do-nothing ext_proc service (bench/noop-extproc.ts), and one
 * more pass per side reads each process's CPU per call from /proc (bench/cpu.ts).
 *
 * Process layout as in bench/run.ts: backends in one child, the gateway in another, each Envoy
 * its own process, the load generator here. Knobs: those of bench/plan.ts, BENCH_STATELESS_RATE
 * (the stateless scenario's fixed rate, default 200/s), BENCH_NOOP_ROUND_TRIPS=1
 * (the do-nothing side with one round trip per call instead of three), and BENCH_CPU_PROF=1
 * to write a V8 CPU profile of the gateway process (ext_proc, broker, xDS, and the noop ext_proc)
 * under dist/bench-prof/ (`node dist/bench/prof-summary.js <file>`). Skipped with a note when
 * Envoy is not installed.
 */
import { cpus, loadavg } from 'node:os';
import { envoyBin } from '../test/harness/components.js';
import { envoyStat } from '../test/harness/topology-envoy.js';
import { clusterName } from '../src/xds/clusters.js';
import { startChild, type Child } from './children.js';
import { cpuDuring, envoyPid } from './cpu.js';
import { healthyHosts, startPlainEnvoy, startTopologyEnvoy, stats, until, type BenchEnvoy } from './envoys.js';
import { installed } from './installed.js';
import { openSession } from './mcp-session.js';
import { runLoad } from './load.js';
import { closePools, env, gatewayProfiling, lagWarning, measure, plan, poolFor, writeResults } from './plan.js';
import { legend, table, verdicts, verdictTable, type Side, type Verdict } from './report.js';
import * as t from './targets.js';

const ECHO_CLUSTER = clusterName('echo');
const MODERN_CLUSTER = clusterName('modern');

/**
 * The fixed rate of the 2026-07-28 scenario (BENCH_STATELESS_RATE): the SDK 2.4 server builds a
 * server per request and saturates near 400 calls/s on this machine, below the session scenario's
 * rate; latency is only comparable at a rate the backend itself sustains.
 */
const STATELESS_RATE = env('BENCH_STATELESS_RATE', 200);

/** Envoy's own view of where a call's time went, for the analysis under the table. */
async function envoyStats(plain: BenchEnvoy, noop: BenchEnvoy, topo: BenchEnvoy): Promise<{ plain: string[]; noop: string[]; topology: string[] }> {
  const rq = '^http\\.mcp\\.downstream_rq_(total|time)$';
  return {
    plain: await stats(plain.envoy.adminUrl, `${rq}|^cluster\\.backend\\.upstream_rq_(total|time)$`),
    noop: await stats(noop.envoy.adminUrl, `${rq}|ext_proc\\.(streams_(started|failed)|server_half_closed)$`),
    topology: await stats(topo.envoy.adminUrl, `${rq}|ext_proc|rate_limited$|^cluster\\.(extproc|broker|mcp_backend[._](echo|modern))\\.upstream_rq_(total|time)$`),
  };
}

/** A histogram line cut to its cumulative p50/p90/p99 (Envoy prints `Pnn(interval,cumulative)`). */
function brief(line: string): string {
  if (!line.includes(' P50(')) return line;
  const q = (p: string): string => Number(new RegExp(` ${p}\\([^,]*,([^)]*)\\)`).exec(line)?.[1]).toFixed(2);
  return `${line.slice(0, line.indexOf(':'))}: p50 ${q('P50')} p90 ${q('P90')} p99 ${q('P99')}`;
}

/** One counter from admin `/stats` (0 while Envoy has not used it). */
async function counter(envoy: BenchEnvoy, name: string): Promise<number> {
  return (await envoyStat(envoy.envoy.adminUrl, name)) || 0;
}

/** ext_proc messages per call: each is a gRPC round trip Envoy waits for before it routes. */
function perCall(lines: readonly string[]): string {
  const n = (name: string): number => Number(lines.find((l) => l.startsWith(`${name}: `))?.split(': ')[1] ?? NaN);
  const streams = n('http.mcp.ext_proc.streams_started');
  // A failed stream is a request Envoy answered 500 itself (failure_mode_allow: false): the err column.
  const failed = n('http.mcp.ext_proc.streams_failed') || 0;
  return `${streams} ext_proc streams for ${n('http.mcp.downstream_rq_total')} requests, ${failed} failed; per stream ${(n('http.mcp.ext_proc.stream_msgs_sent') / streams).toFixed(2)} messages sent to ext_proc, ${(n('http.mcp.ext_proc.stream_msgs_received') / streams).toFixed(2)} received`;
}

/** Counts of one call kind's ext_proc traffic, from Envoy's counters around a pass of that call alone. */
interface RoundTrips {
  readonly calls: number;
  readonly streams: number;
  /** Messages Envoy sent ext_proc per call: each is a round trip the request waits for. */
  readonly perCall: number;
}

/** `n` calls of `tg`, one at a time, with Envoy's ext_proc counters read before and after. */
async function roundTrips(topo: BenchEnvoy, tg: t.Target, n = 200): Promise<RoundTrips> {
  const read = async () => ({ sent: await counter(topo, 'http.mcp.ext_proc.stream_msgs_sent'), streams: await counter(topo, 'http.mcp.ext_proc.streams_started') });
  const before = await read();
  for (let i = 0; i < n; i++) if (!(await tg.send()).ok) throw new Error(`${tg.label}: a counted call failed`);
  const after = await read();
  return { calls: n, streams: after.streams - before.streams, perCall: (after.sent - before.sent) / n };
}

/**
 * CPU per call of every process, side by side, at saturation: an extra closed-loop pass per side
 * with /proc read around it (see bench/cpu.ts). Where (c)'s throughput goes, without a profiler.
 */
async function cpuPerCall(sides: ReadonlyArray<readonly [string, t.Target]>, pids: Record<string, number | undefined>): Promise<Record<string, Record<string, number>>> {
  const out: Record<string, Record<string, number>> = {};
  for (const [side, tg] of sides) {
    const o = { ...plan.closed, concurrency: plan.saturation, warmup: 0 };
    let n = 0;
    const ms = await cpuDuring(pids, async () => void (n = (await runLoad(tg, o)).count));
    out[side] = Object.fromEntries(Object.entries(ms).map(([k, v]) => [k, (v * 1000) / n]));
  }
  return out;
}

function cpuTable(perCall: Record<string, Record<string, number>>): string {
  const cols = [...new Set(Object.values(perCall).flatMap((r) => Object.keys(r)))];
  const head = ['side'.padEnd(8), ...cols.map((c) => c.padStart(11)), 'total'.padStart(8)].join(' ');
  const lines = Object.entries(perCall).map(([side, r]) =>
    [side.padEnd(8), ...cols.map((c) => (r[c] ?? NaN).toFixed(0).padStart(11)), Object.values(r).reduce((a, b) => a + b, 0).toFixed(0).padStart(8)].join(' '));
  return [head, ...lines].join('\n');
}

async function main(): Promise<void> {
  if (!installed(envoyBin)) {
    console.log('bench envoy: skipped, Envoy is not installed (bash scripts/install-components.sh)');
    return;
  }
  const started = Date.now();
  const children: Child[] = [];
  const envoys: BenchEnvoy[] = [];
  try {
    const backends = await startChild(['backends']);
    children.push(backends);
    const gateway = await startChild(['extproc', JSON.stringify(backends.urls)], gatewayProfiling);
    children.push(gateway);
    const plain = await startPlainEnvoy(backends.urls.echo!);
    envoys.push(plain);
    const noopEnvoy = await startPlainEnvoy(backends.urls.echo!, gateway.urls.noop!);
    envoys.push(noopEnvoy);
    const topo = await startTopologyEnvoy(gateway.urls);
    envoys.push(topo);
    const plainStateless = await startPlainEnvoy(backends.urls.stateless!);
    envoys.push(plainStateless);
    console.log(`bench envoy: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg().map((l) => l.toFixed(2)).join(' ')}; backends pid ${backends.pid}, gateway pid ${gateway.pid}`);
    // Envoy learns the backends' clusters over xDS and the gateway discovers their tools (and eras)
    // in the background: measure only once all are there.
    await until(`Envoy to know ${ECHO_CLUSTER} and ${MODERN_CLUSTER}`, async () => (await healthyHosts(topo.envoy.adminUrl, ECHO_CLUSTER)) === 1 && (await healthyHosts(topo.envoy.adminUrl, MODERN_CLUSTER)) === 1);

    const echo = poolFor(backends.urls.echo!);
    const modern = poolFor(backends.urls.stateless!);
    const viaPlain = poolFor(plain.endpoint);
    const viaPlainStateless = poolFor(plainStateless.endpoint);
    const viaNoop = poolFor(noopEnvoy.endpoint);
    const viaTopo = poolFor(topo.endpoint);
    const direct = t.mcpDirect(echo.pool, echo.path, await openSession(echo.pool, echo.path));
    const envoy = t.mcpCall('MCP via plain Envoy tools/call echo', viaPlain.pool, viaPlain.path, await openSession(viaPlain.pool, viaPlain.path), 'echo');
    const noop = t.mcpCall('MCP via Envoy + do-nothing ext_proc (same filter, Node grpc-js) tools/call echo', viaNoop.pool, viaNoop.path, await openSession(viaNoop.pool, viaNoop.path), 'echo');
    const gw = t.mcpCall('MCP via Envoy + gateway (ext_proc, xDS cluster) tools/call echo_echo', viaTopo.pool, viaTopo.path, await openSession(viaTopo.pool, viaTopo.path), 'echo_echo');
    const sDirect = t.statelessCall('MCP 2026-07-28 direct tools/call echo (SDK 2.4 server)', modern.pool, modern.path, 'echo');
    const sEnvoy = t.statelessCall('MCP 2026-07-28 via plain Envoy tools/call echo', viaPlainStateless.pool, viaPlainStateless.path, 'echo');
    const sGw = t.statelessCall('MCP 2026-07-28 via Envoy + gateway (ext_proc, xDS cluster) tools/call modern_echo', viaTopo.pool, viaTopo.path, 'modern_echo');
    // The same client's call of the session-era echo: carried by the broker, which bridges the eras.
    const sBridged = t.statelessCall('MCP 2026-07-28 via Envoy + gateway (ext_proc, broker bridging to the session-era backend) tools/call echo_echo', viaTopo.pool, viaTopo.path, 'echo_echo');
    await until('the gateway to list echo_echo and modern_echo', async () => (await gw.verify(), await sGw.verify(), true));
    const sides = [['direct', direct], ['envoy', envoy], ['noop', noop], ['gateway', gw]] as const;
    const statelessSides = [['direct', sDirect], ['envoy', sEnvoy], ['gateway', sGw]] as const;
    // Judged against plain Envoy in front of the same (session-era) backend.
    const bridgedSides = [['envoy', envoy], ['gateway', sBridged]] as const;
    for (const [, tg] of [...sides, ...statelessSides, ...bridgedSides.slice(1)]) console.log(`  check: ${tg.label} -> ${(await tg.verify()).note}`);
    const trips = { session: await roundTrips(topo, gw), stateless: await roundTrips(topo, sGw), bridged: await roundTrips(topo, sBridged) };
    for (const [era, r] of Object.entries(trips)) console.log(`  ext_proc round trips per ${era} call: ${r.perCall.toFixed(2)} (${r.streams} streams for ${r.calls} calls)`);
    const brokerBefore = await counter(topo, 'cluster.broker.upstream_rq_total');
    const rows = [...(await measure('mcp', sides, { rate: plan.callRate })), ...(await measure('stateless', statelessSides, { rate: STATELESS_RATE }))];
    const brokerCalls = (await counter(topo, 'cluster.broker.upstream_rq_total')) - brokerBefore;
    rows.push(...(await measure('bridged', bridgedSides, { rate: STATELESS_RATE })));
    const pids = {
      backend: backends.pid,
      'envoy-plain': await envoyPid(plain.envoy.adminUrl),
      'envoy-plain-s': await envoyPid(plainStateless.envoy.adminUrl),
      'envoy-noop': await envoyPid(noopEnvoy.envoy.adminUrl),
      'envoy-topo': await envoyPid(topo.envoy.adminUrl),
      'gw-process': gateway.pid,
    };
    const cpu = await cpuPerCall([...sides, ['envoy-s', sEnvoy], ['gw-s', sGw]], pids);
    process.stdout.write('\n\n');

    const judged = ['mcp', 'stateless', 'bridged'].flatMap((scenario) => verdicts(rows.filter((r) => r.scenario === scenario), plan.saturation, { side: 'gateway', base: 'envoy' }));
    // The other pairs have no target of their own: they explain the judged figures.
    const info = (side: Side, base: Side): Verdict[] => verdicts(rows.filter((r) => r.scenario === 'mcp'), plan.saturation, { side, base }).map((v) => ({ ...v, target: '-', met: null, judged: false }));
    const context = {
      'Plain Envoy vs direct (what Envoy itself costs)': info('envoy', 'direct'),
      'Do-nothing ext_proc vs plain Envoy (the ext_proc round trips themselves)': info('noop', 'envoy'),
      'Envoy + gateway vs do-nothing ext_proc (admission and routing in them, the topology\'s other filters)': info('gateway', 'noop'),
    };
    console.log(table(rows));
    console.log(legend(rows));
    console.log(`\nEnvoy + gateway vs plain Envoy, per scenario (ext_proc round trips per call: mcp, session era, ${trips.session.perCall.toFixed(2)}; stateless, 2026-07-28 routed to the backend, ${trips.stateless.perCall.toFixed(2)}; bridged, 2026-07-28 client through the broker to the session-era backend, ${trips.bridged.perCall.toFixed(2)}).`);
    console.log(`Judged (met / NOT MET): added p50/p99 on the fixed-rate rows (${plan.callRate}/s; stateless ${STATELESS_RATE}/s), throughput ratio on closed loop c=${plan.saturation} (saturation).`);
    console.log(`The stateless throughput ratio is bounded by its backend when the SDK 2.4 server saturates first (compare its direct row). Figures in parentheses are context, not judged:`);
    console.log(verdictTable(judged));
    for (const [caption, list] of Object.entries(context)) console.log(`\n${caption}, context:\n${verdictTable(list)}`);
    const lagged = lagWarning(rows);
    if (lagged) console.log(lagged);

    const envoyView = await envoyStats(plain, noopEnvoy, topo);
    console.log(`\nEnvoy's counters over the whole run (histograms in ms, bucketed, all loads together):`);
    console.log(`  requests that reached the broker while measuring mcp and stateless: ${brokerCalls} (calls go from Envoy to the backends' clusters)`);
    for (const [name, lines] of Object.entries(envoyView)) for (const l of lines) console.log(`  ${name.padEnd(8)} ${brief(l)}`);
    console.log(`  ${perCall(envoyView.topology)}`);

    console.log(`\nCPU per call (µs) of each process, one more closed-loop pass per side at c=${plan.saturation} (/proc, 10 ms ticks; -s: the 2026-07-28 call):`);
    console.log(cpuTable(cpu));

    const met = judged.filter((v) => v.judged);
    console.log(`\n${met.filter((v) => v.met).length}/${met.length} targets met (latency at ${plan.callRate}/s; throughput at c=${plan.saturation}); load average now ${loadavg().map((l) => l.toFixed(2)).join(' ')}; run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`results written to ${writeResults('bench-envoy-results.json', { envoyStats: envoyView, brokerCalls, cpuPerCallUs: cpu, extprocRoundTrips: trips }, rows, { judged, ...context })}`);
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
