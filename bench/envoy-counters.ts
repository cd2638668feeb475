/**
 * What Envoy's own counters say about bench/envoy.ts's calls: ext_proc round trips and broker
 * requests per call of each kind (exact, from counters read around a pass of that call alone),
 * and the run's histograms cut to a readable size.
 */
import { envoyStat } from '../test/harness/topology-envoy.js';
import { stats, type BenchEnvoy } from './envoys.js';
import type { Target } from './targets.js';

/** One counter from admin `/stats` (0 while Envoy has not used it). */
async function counter(envoy: BenchEnvoy, name: string): Promise<number> {
  return (await envoyStat(envoy.envoy.adminUrl, name)) || 0;
}

/** Counts of one call kind's trip through one Envoy, from its counters around a pass of that call alone. */
export interface RoundTrips {
  readonly calls: number;
  readonly streams: number;
  /** Messages Envoy sent ext_proc per call: each is a round trip the request waits for. */
  readonly perCall: number;
  /** Requests Envoy sent the broker per call: 0 for a call it routes straight to a backend. */
  readonly broker: number;
}

/** `n` calls of `tg`, one at a time, with `envoy`'s ext_proc and broker counters read before and after. */
export async function roundTrips(envoy: BenchEnvoy, tg: Target, n = 200): Promise<RoundTrips> {
  const read = async () => ({
    sent: await counter(envoy, 'http.mcp.ext_proc.stream_msgs_sent'),
    streams: await counter(envoy, 'http.mcp.ext_proc.streams_started'),
    broker: await counter(envoy, 'cluster.broker.upstream_rq_total'),
  });
  const before = await read();
  for (let i = 0; i < n; i++) if (!(await tg.send()).ok) throw new Error(`${tg.label}: a counted call failed`);
  const after = await read();
  return { calls: n, streams: after.streams - before.streams, perCall: (after.sent - before.sent) / n, broker: (after.broker - before.broker) / n };
}

/** Envoy's own view of where a call's time went, for the analysis under the tables. */
export async function envoyStats(plain: BenchEnvoy, noop: BenchEnvoy, topo: BenchEnvoy): Promise<{ plain: string[]; noop: string[]; topology: string[] }> {
  const rq = '^http\\.mcp\\.downstream_rq_(total|time)$';
  return {
    plain: await stats(plain.envoy.adminUrl, `${rq}|^cluster\\.(backend|orders)\\.upstream_rq_(total|time)$`),
    noop: await stats(noop.envoy.adminUrl, `${rq}|ext_proc\\.(streams_(started|failed)|server_half_closed)$`),
    topology: await stats(topo.envoy.adminUrl, `${rq}|ext_proc|rate_limited$|^cluster\\.(extproc|broker|mcp_backend[._](echo|modern))\\.upstream_rq_(total|time)$`),
  };
}

/** A histogram line cut to its cumulative p50/p90/p99 (Envoy prints `Pnn(interval,cumulative)`). */
export function brief(line: string): string {
  if (!line.includes(' P50(')) return line;
  const q = (p: string): string => Number(new RegExp(` ${p}\\([^,]*,([^)]*)\\)`).exec(line)?.[1]).toFixed(2);
  return `${line.slice(0, line.indexOf(':'))}: p50 ${q('P50')} p90 ${q('P90')} p99 ${q('P99')}`;
}

/** ext_proc messages per stream over the whole run: each is a gRPC round trip Envoy waits for before it routes. */
export function perStream(lines: readonly string[]): string {
  const n = (name: string): number => Number(lines.find((l) => l.startsWith(`${name}: `))?.split(': ')[1] ?? NaN);
  const streams = n('http.mcp.ext_proc.streams_started');
  // A failed stream is a request Envoy answered 500 itself (failure_mode_allow: false): the err column.
  const failed = n('http.mcp.ext_proc.streams_failed') || 0;
  return `${streams} ext_proc streams for ${n('http.mcp.downstream_rq_total')} requests, ${failed} failed; per stream ${(n('http.mcp.ext_proc.stream_msgs_sent') / streams).toFixed(2)} messages sent to ext_proc, ${(n('http.mcp.ext_proc.stream_msgs_received') / streams).toFixed(2)} received`;
}
