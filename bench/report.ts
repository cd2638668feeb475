/**
 * Turning summaries into the printed table, the gateway-vs-direct ratios and the target
 * verdicts, and the JSON export. Each target is judged on the rows that match what it means:
 * latency targets ("at moderate load") on the fixed-rate rows, where direct and gateway get
 * the same offered rate and latency is not just queueing; the throughput target on the
 * closed-loop saturation rows (the highest concurrency), which measure maximum throughput.
 * Every other figure is printed in parentheses or as info, for context.
 */
import type { Summary } from './stats.js';

/**
 * Who answered a row: `direct` the backend itself (no proxy), `envoy` the backend behind a plain
 * Envoy (bench/envoy.ts's baseline for the Envoy topology), `noop` behind Envoy with a do-nothing
 * ext_proc (bench/envoy.ts's diagnostic), `gateway` the gateway under test.
 */
export type Side = 'direct' | 'envoy' | 'noop' | 'gateway';

/** Which side is judged against which baseline: gateway over direct unless a bench says otherwise. */
export interface Pair {
  readonly side: Side;
  readonly base: Side;
}

export interface Row {
  readonly scenario: string;
  readonly side: Side;
  /** `closed`: `load` workers back to back; `rate`: `load` requests per second on a fixed schedule. */
  readonly mode: 'closed' | 'rate';
  readonly load: number;
  readonly label: string;
  readonly summary: Summary;
  /** Fixed-rate rows: p99 of how late the load generator itself sent (ms). */
  readonly lagP99?: number;
  /** Saturation rows of a bench that reads /proc: CPU per call of each named process, in µs. */
  readonly cpuUs?: Readonly<Record<string, number>>;
}

export interface Verdict {
  readonly scenario: string;
  /** `c=8` (closed loop) or `500/s` (fixed rate). */
  readonly load: string;
  readonly metric: string;
  readonly value: number;
  readonly target: string;
  /** `null` for informational figures that have no target. */
  readonly met: boolean | null;
  /** Whether this figure counts towards the target (see the module comment). */
  readonly judged: boolean;
}

/** The targets; the same numbers hold for the gateway over direct and for Envoy + gateway over plain Envoy. */
export const TARGETS = { addedP50Ms: 0.5, addedP99Ms: 2, throughputRatio: 0.5, listP99Ms: 1 } as const;

export const loadName = (r: Pick<Row, 'mode' | 'load'>): string => (r.mode === 'rate' ? `${r.load}/s` : `c=${r.load}`);
const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function table(rows: readonly Row[]): string {
  const head = `${pad('scenario', 9)} ${pad('load', 6)} ${pad('side', 8)} ${lpad('n', 6)} ${lpad('err', 4)} ${lpad('req/s', 6)} ${lpad('p50 ms', 7)} ${lpad('p90 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('max ms', 7)} ${lpad('KiB', 6)} ${lpad('lag99', 6)}`;
  const lines = rows.map((r) => {
    const s = r.summary;
    const lag = r.lagP99 === undefined ? '' : f(r.lagP99, 2);
    return `${pad(r.scenario, 9)} ${pad(loadName(r), 6)} ${pad(r.side, 8)} ${lpad(String(s.count), 6)} ${lpad(String(s.errors), 4)} ${lpad(f(s.rps, 0), 6)} ${lpad(f(s.p50, 3), 7)} ${lpad(f(s.p90, 3), 7)} ${lpad(f(s.p99, 3), 7)} ${lpad(f(s.max, 2), 7)} ${lpad(f(s.bytes / 1024, 1), 6)} ${lpad(lag, 6)}`;
  });
  const note = 'load: c=N closed loop with N workers; R/s open loop at a fixed R req/s, latency from each request\'s scheduled send time\n' +
    'err includes dropped (over the in-flight cap or unanswered); lag99 = p99 of how late the load generator itself sent';
  return [head, '-'.repeat(head.length), ...lines, '', note].join('\n');
}

/** The full label of each scenario side, since the table only has room for short names. */
export function legend(rows: readonly Row[]): string {
  const seen = new Map<string, string>();
  for (const r of rows) seen.set(`${r.scenario} ${r.side}`, r.label);
  return [...seen].map(([k, label]) => `  ${pad(k, 17)} ${label}`).join('\n');
}

/**
 * Listings, the scenarios named `…list<entries>` (list1000, list500, rlist1000), have no no-proxy
 * twin: their "direct" row is the payload floor, and only their own p99 has a target.
 */
export const isListing = (scenario: string): boolean => /list\d+$/.test(scenario);

/**
 * Gateway minus direct (or `pair.side` minus `pair.base`) for every row pair with the same
 * scenario and load; for listings the p99 target, plus (informational, `met: null`) how far the
 * gateway is above the static payload floor. `saturation` is the closed-loop concurrency the
 * throughput target is judged at.
 */
export function verdicts(rows: readonly Row[], saturation: number, pair: Pair = { side: 'gateway', base: 'direct' }): Verdict[] {
  const out: Verdict[] = [];
  for (const g of rows) {
    if (g.side !== pair.side) continue;
    const d = rows.find((r) => r.side === pair.base && r.scenario === g.scenario && r.mode === g.mode && r.load === g.load);
    const rate = g.mode === 'rate';
    const saturated = !rate && g.load === saturation;
    const v = (metric: string, value: number, target: string, met: boolean | null, judged: boolean): void =>
      void out.push({ scenario: g.scenario, load: loadName(g), metric, value, target, met, judged: judged && met !== null });
    const p50 = d ? g.summary.p50 - d.summary.p50 : NaN;
    const p99 = d ? g.summary.p99 - d.summary.p99 : NaN;
    const ratio = d ? g.summary.rps / d.summary.rps : NaN;
    if (isListing(g.scenario)) {
      v('p99 ms', g.summary.p99, `<= ${TARGETS.listP99Ms}`, g.summary.p99 <= TARGETS.listP99Ms && g.summary.errors === 0, rate);
      if (d) {
        v('p50 over floor', p50, '-', null, false);
        v('p99 over floor', p99, '-', null, false);
        if (!rate) v('rps / floor', ratio, '-', null, false);
      }
    } else if (d) {
      v('added p50 ms', p50, `<= ${TARGETS.addedP50Ms}`, p50 <= TARGETS.addedP50Ms && g.summary.errors === 0, rate);
      v('added p99 ms', p99, `<= ${TARGETS.addedP99Ms}`, p99 <= TARGETS.addedP99Ms && g.summary.errors === 0, rate);
      if (!rate) v('throughput ratio', ratio, `>= ${TARGETS.throughputRatio}x`, ratio >= TARGETS.throughputRatio, saturated);
    }
  }
  return out;
}

export function verdictTable(list: readonly Verdict[]): string {
  return list
    .map((v) => {
      const mark = v.met === null ? 'info' : v.judged ? (v.met ? 'met' : 'NOT MET') : v.met ? '(met)' : '(not met)';
      return `${pad(v.scenario, 9)} ${pad(v.load, 6)} ${pad(v.metric, 17)} ${lpad(f(v.value, 3), 8)}  target ${pad(v.target, 7)} ${mark}`;
    })
    .join('\n');
}
