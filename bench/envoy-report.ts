/**
 * bench/envoy.ts's printed verdicts and CPU table. Five scenarios with up to four sides each make
 * the shared one-line-per-figure verdict list (report.ts `verdictTable`) some 150 lines long, so
 * here each scenario gets one block with one line per pair of sides and one column per figure.
 */
import { verdicts, type Row, type Side, type Verdict } from './report.js';

/** A pair of sides compared in every scenario that has both. */
interface PairSpec {
  readonly side: Side;
  readonly base: Side;
  /** Judged against the targets; the other pairs explain the judged figures. */
  readonly judged: boolean;
}

/**
 * The topology against plain Envoy is judged; plain Envoy against direct is what Envoy itself
 * costs, the do-nothing ext_proc against plain Envoy is what the ext_proc round trips themselves
 * cost, and the topology against the do-nothing ext_proc is what admission, routing and the
 * topology's other filters add in them.
 */
const PAIRS: readonly PairSpec[] = [
  { side: 'gateway', base: 'envoy', judged: true },
  { side: 'envoy', base: 'direct', judged: false },
  { side: 'noop', base: 'envoy', judged: false },
  { side: 'gateway', base: 'noop', judged: false },
];

/** One scenario's verdicts and their printed block. */
export interface ScenarioVerdicts {
  /** Every pair's verdicts, keyed `<side> vs <base>`; only the judged pair's count towards the targets. */
  readonly byPair: Record<string, Verdict[]>;
  readonly text: string;
}

const pad = (s: string, n: number): string => s.padEnd(n);
const lpad = (s: string, n: number): string => s.padStart(n);
const SHORT: Record<string, string> = { 'added p50 ms': 'p50', 'added p99 ms': 'p99', 'throughput ratio': 'throughput' };

/**
 * The column a verdict goes in, if any: added p50/p99 below saturation and at the fixed rate (at
 * saturation latency is mostly queueing), the throughput ratio at saturation only.
 */
function column(v: Verdict, saturation: number): string | undefined {
  const sat = v.load === `c=${saturation}`;
  if (v.metric === 'throughput ratio') return sat ? `${v.load} xrps` : undefined;
  return sat ? undefined : `${v.load} +${SHORT[v.metric]}`;
}

/**
 * One scenario's block: `heading` lines, then a line per pair of sides present in `rows` (the
 * scenario's rows), with the judged pair's verdicts spelled out.
 */
export function scenarioBlock(heading: readonly string[], rows: readonly Row[], saturation: number): ScenarioVerdicts {
  const sides = new Set(rows.map((r) => r.side));
  const byPair: Record<string, Verdict[]> = {};
  const lines: Array<{ caption: string; cells: Map<string, Verdict>; verdict: string }> = [];
  const cols: string[] = [];
  for (const p of PAIRS.filter((q) => sides.has(q.side) && sides.has(q.base))) {
    const list = verdicts(rows, saturation, p).map((v) => (p.judged ? v : { ...v, target: '-', met: null, judged: false }));
    byPair[`${p.side} vs ${p.base}`] = list;
    const cells = new Map<string, Verdict>();
    for (const v of list) {
      const c = column(v, saturation);
      if (c === undefined) continue;
      cells.set(c, v);
      if (!cols.includes(c)) cols.push(c);
    }
    const verdict = list.filter((v) => v.judged).map((v) => `${SHORT[v.metric] ?? v.metric} ${v.met ? 'met' : 'NOT MET'}`).join(', ');
    lines.push({ caption: `${p.side} vs ${p.base}`, cells, verdict: p.judged ? verdict : '(context)' });
  }
  const cell = (v: Verdict | undefined): string => (v === undefined || !Number.isFinite(v.value) ? '-' : v.metric === 'throughput ratio' ? `${v.value.toFixed(2)}x` : v.value.toFixed(2));
  const head = `  ${pad('pair', 18)}${cols.map((c) => lpad(c, 12)).join('')}  verdict`;
  const body = lines.map((l) => `  ${pad(l.caption, 18)}${cols.map((c) => lpad(cell(l.cells.get(c)), 12)).join('')}  ${l.verdict}`);
  return { byPair, text: [...heading, head, ...body].join('\n') };
}

/** CPU per call (µs) of each process, a line per scenario side that has a reading (`Row.cpuUs`). */
export function cpuTable(rows: readonly Row[]): string {
  const read = rows.filter((r) => r.cpuUs);
  const cols = [...new Set(read.flatMap((r) => Object.keys(r.cpuUs!)))];
  const head = [pad('scenario side', 18), ...cols.map((c) => lpad(c, 13)), lpad('total', 8)].join(' ');
  const lines = read.map((r) => {
    const us = r.cpuUs!;
    const total = Object.values(us).reduce((a, b) => a + b, 0);
    return [pad(`${r.scenario} ${r.side}`, 18), ...cols.map((c) => lpad(us[c] === undefined ? '-' : us[c].toFixed(0), 13)), lpad(total.toFixed(0), 8)].join(' ');
  });
  return [head, ...lines].join('\n');
}
