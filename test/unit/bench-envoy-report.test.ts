import { describe, expect, it } from 'vitest';
import { cpuTable, scenarioBlock } from '../../bench/envoy-report.js';
import { chosenScenarios, SCENARIOS } from '../../bench/envoy-scenarios.js';
import type { Row, Side } from '../../bench/report.js';
import type { Summary } from '../../bench/stats.js';

const summary = (p50: number, p99: number, rps: number): Summary => ({ count: 1000, errors: 0, seconds: 1, rps, p50, p90: p99, p99, max: p99, mean: p50, bytes: 100 });

/** A scenario's rows: c=1, 500/s and c=8 per side, from (p50, p99, rps at c=8). */
function rows(scenario: string, sides: Partial<Record<Side, [number, number, number]>>): Row[] {
  return Object.entries(sides).flatMap(([side, [p50, p99, rps]]) => [
    { scenario, side: side as Side, mode: 'closed' as const, load: 1, label: side, summary: summary(p50, p99, 1000 / p50) },
    { scenario, side: side as Side, mode: 'rate' as const, load: 500, label: side, summary: summary(p50, p99, 500) },
    { scenario, side: side as Side, mode: 'closed' as const, load: 8, label: side, summary: summary(p50 * 4, p99 * 4, rps), cpuUs: { backend: 100, [side]: 50 } },
  ]);
}

describe('bench:envoy verdict block', () => {
  it('judges the topology against plain Envoy and prints the other pairs as context', () => {
    const block = scenarioBlock(['rest: heading'], rows('rest', { direct: [0.5, 1, 4000], envoy: [0.7, 1.5, 3000], noop: [1.2, 2.5, 2000], gateway: [1.5, 3, 1000] }), 8);
    const lines = block.text.split('\n');
    expect(lines[0]).toBe('rest: heading');
    expect(lines[1]).toMatch(/pair\s+c=1 \+p50\s+c=1 \+p99\s+500\/s \+p50\s+500\/s \+p99\s+c=8 xrps\s+verdict/);
    // +0.8 ms p50 misses the 0.5 ms target, +1.5 ms p99 meets 2 ms, a third of plain Envoy's throughput misses 0.5x.
    expect(lines[2]).toMatch(/^ {2}gateway vs envoy\s+0\.80\s+1\.50\s+0\.80\s+1\.50\s+0\.33x\s+p50 NOT MET, p99 met, throughput NOT MET$/);
    expect(lines.slice(3).map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(['envoy vs direct', 'noop vs envoy', 'gateway vs noop']);
    expect(lines.slice(3).every((l) => l.endsWith('(context)'))).toBe(true);
    expect(block.byPair['gateway vs envoy']!.filter((v) => v.judged).map((v) => v.met)).toEqual([false, true, false]);
    expect(block.byPair['noop vs envoy']!.some((v) => v.judged)).toBe(false);
  });

  it('leaves out the pairs whose sides a scenario does not have', () => {
    const block = scenarioBlock([], rows('bridged', { envoy: [0.7, 1.5, 3000], gateway: [1, 2, 2000] }), 8);
    expect(Object.keys(block.byPair)).toEqual(['gateway vs envoy']);
    expect(block.text).toContain('p50 met, p99 met, throughput met');
  });

  it('prints CPU per call of every process for each side read at saturation, with the total', () => {
    const table = cpuTable(rows('list', { direct: [0.5, 1, 4000], gateway: [1, 2, 2000] })).split('\n');
    expect(table).toHaveLength(3);
    expect(table[0]).toMatch(/^scenario side\s+backend\s+direct\s+gateway\s+total$/);
    expect(table[1]).toMatch(/^list direct\s+100\s+50\s+-\s+150$/);
    expect(table[2]).toMatch(/^list gateway\s+100\s+-\s+50\s+150$/);
  });
});

describe('BENCH_ENVOY_SCENARIOS', () => {
  it('runs every scenario by default, and the chosen ones in run order', () => {
    expect(chosenScenarios(undefined)).toEqual(SCENARIOS);
    expect(chosenScenarios('list, rest')).toEqual(['rest', 'list']);
  });

  it('refuses a name that is not a scenario, naming the known ones', () => {
    expect(() => chosenScenarios('rest,lists')).toThrow('BENCH_ENVOY_SCENARIOS: unknown scenario lists (known: mcp, stateless, bridged, rest, list)');
  });
});
