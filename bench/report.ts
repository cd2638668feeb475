/**
 * Turning summaries into the printed table, the gateway-vs-direct ratios and the target
 * verdicts, and the JSON export. Targets are judged on the loaded run (the highest
 * concurrency); lighter loads are printed too because they show the per-hop cost without
 * queueing on a small machine.
 */
import type { Summary } from './stats.js';

export interface Row {
  readonly scenario: string;
  readonly side: 'direct' | 'gateway';
  readonly concurrency: number;
  readonly label: string;
  readonly summary: Summary;
}

export interface Verdict {
  readonly scenario: string;
  readonly concurrency: number;
  readonly metric: string;
  readonly value: number;
  readonly target: string;
  /** `null` for informational figures that have no target. */
  readonly met: boolean | null;
}

export const TARGETS = { addedP50Ms: 0.5, addedP99Ms: 2, throughputRatio: 0.5, listP99Ms: 1 } as const;

const f = (v: number, d = 2): string => (Number.isFinite(v) ? v.toFixed(d) : '-');
const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);

export function table(rows: readonly Row[]): string {
  const head = `${pad('scenario', 10)} ${lpad('c', 2)} ${pad('side', 8)} ${lpad('n', 6)} ${lpad('err', 4)} ${lpad('req/s', 8)} ${lpad('p50 ms', 7)} ${lpad('p90 ms', 7)} ${lpad('p99 ms', 7)} ${lpad('max ms', 7)} ${lpad('KiB', 6)}`;
  const lines = rows.map((r) => {
    const s = r.summary;
    return `${pad(r.scenario, 10)} ${lpad(String(r.concurrency), 2)} ${pad(r.side, 8)} ${lpad(String(s.count), 6)} ${lpad(String(s.errors), 4)} ${lpad(f(s.rps, 0), 8)} ${lpad(f(s.p50, 3), 7)} ${lpad(f(s.p90, 3), 7)} ${lpad(f(s.p99, 3), 7)} ${lpad(f(s.max, 2), 7)} ${lpad(f(s.bytes / 1024, 1), 6)}`;
  });
  return [head, '-'.repeat(head.length), ...lines].join('\n');
}

/** The full label of each scenario side, since the table only has room for short names. */
export function legend(rows: readonly Row[]): string {
  const seen = new Map<string, string>();
  for (const r of rows) seen.set(`${r.scenario} ${r.side}`, r.label);
  return [...seen].map(([k, label]) => `  ${pad(k, 17)} ${label}`).join('\n');
}

/** Listings have no no-proxy twin: their "direct" row is the payload floor, and only their own p99 has a target. */
const isListing = (scenario: string): boolean => scenario.startsWith('list');

/**
 * Gateway minus direct for every scenario that has both sides; for listings the p99 target,
 * plus (informational, `met: null`) how far the gateway is above the static payload floor.
 */
export function verdicts(rows: readonly Row[]): Verdict[] {
  const out: Verdict[] = [];
  for (const g of rows) {
    if (g.side !== 'gateway') continue;
    const d = rows.find((r) => r.side === 'direct' && r.scenario === g.scenario && r.concurrency === g.concurrency);
    const v = (metric: string, value: number, target: string, met: boolean | null): void => void out.push({ scenario: g.scenario, concurrency: g.concurrency, metric, value, target, met });
    const p50 = d ? g.summary.p50 - d.summary.p50 : NaN;
    const p99 = d ? g.summary.p99 - d.summary.p99 : NaN;
    const ratio = d ? g.summary.rps / d.summary.rps : NaN;
    if (isListing(g.scenario)) {
      v('p99 ms', g.summary.p99, `<= ${TARGETS.listP99Ms}`, g.summary.p99 <= TARGETS.listP99Ms);
      if (d) {
        v('p50 over floor', p50, '-', null);
        v('p99 over floor', p99, '-', null);
        v('rps / floor', ratio, '-', null);
      }
    } else if (d) {
      v('added p50 ms', p50, `<= ${TARGETS.addedP50Ms}`, p50 <= TARGETS.addedP50Ms);
      v('added p99 ms', p99, `<= ${TARGETS.addedP99Ms}`, p99 <= TARGETS.addedP99Ms);
      v('throughput ratio', ratio, `>= ${TARGETS.throughputRatio}x`, ratio >= TARGETS.throughputRatio);
    }
  }
  return out;
}

export function verdictTable(list: readonly Verdict[], loadConcurrency: number): string {
  return list
    .map((v) => {
      const judged = v.concurrency === loadConcurrency;
      const mark = v.met === null ? 'info' : judged ? (v.met ? 'met' : 'NOT MET') : v.met ? '(met)' : '(not met)';
      return `${pad(v.scenario, 10)} c=${lpad(String(v.concurrency), 2)}  ${pad(v.metric, 17)} ${lpad(f(v.value, 3), 8)}  target ${pad(v.target, 7)} ${mark}`;
    })
    .join('\n');
}
