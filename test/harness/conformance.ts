/**
 * Runs the official MCP conformance suite (`@modelcontextprotocol/conformance`, server scenarios)
 * against a URL, with the Node 22 the install script put beside it, and reads its per-scenario
 * `checks.json` files. One CLI run covers every scenario: the suite runs them one after another,
 * each with its own client and session, in about as long as starting the CLI again would take.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { conformanceCli, type ConformanceSuite } from './components.js';
import { runToEnd } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/** One check of a scenario, as the suite writes it. */
interface Check {
  readonly id: string;
  readonly status: 'SUCCESS' | 'FAILURE' | 'WARNING' | 'INFO' | string;
  readonly description?: string;
  readonly errorMessage?: string;
  readonly details?: unknown;
}

export interface ScenarioResult {
  readonly scenario: string;
  /** No FAILURE check (the suite's own rule for a passed scenario). */
  readonly passed: boolean;
  /** `<check id>: <message>` of each failed check. */
  readonly failures: readonly string[];
  /** `<check id>: <message>` of each warning (a SHOULD the server did not meet). */
  readonly warnings: readonly string[];
}

export interface ConformanceRun {
  /** Every scenario the suite ran, in the suite's order. */
  readonly results: readonly ScenarioResult[];
  /** The CLI's stdout and stderr, for a failing test's message. */
  readonly output: string;
}

export interface RunConformanceOptions {
  /** The pinned release (default) or the next version installed beside it. */
  readonly version?: ConformanceSuite;
  /** `all` (default: pending scenarios too), `active` or `pending`. */
  readonly suite?: 'all' | 'active' | 'pending';
  /** Just this scenario (instead of `suite`), e.g. to look at one while fixing it. */
  readonly scenario?: string;
  /** Only the scenarios of this spec revision, e.g. `2025-11-25`. */
  readonly specVersion?: string;
  /** The whole run is killed after this; default 120 s. */
  readonly timeoutMs?: number;
}

const describeCheck = (c: Check): string => `${c.id}: ${c.errorMessage ?? c.description ?? ''}`;

/** A failed check with the start of its details: some messages ("Tool call failed") say little alone. */
const describeFailure = (c: Check): string => (c.details === undefined ? describeCheck(c) : `${describeCheck(c)} (details: ${JSON.stringify(c.details).slice(0, 300)})`);

/** The scenario a result folder belongs to: `server-<scenario>-<ISO time with - for : and .>`. */
const RESULT_DIR = /^server-(.+)-(\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d-\d{3}Z)$/;

function readResults(dir: string): ScenarioResult[] {
  const found = readdirSync(dir).flatMap((name) => {
    const m = RESULT_DIR.exec(name);
    return m ? [{ name, scenario: m[1]!, startedAt: m[2]! }] : [];
  });
  // The suite runs one scenario after the other: start times give its order.
  found.sort((a, b) => a.startedAt.localeCompare(b.startedAt));
  return found.map(({ name, scenario }) => {
    const checks = JSON.parse(readFileSync(join(dir, name, 'checks.json'), 'utf8')) as Check[];
    const failures = checks.filter((c) => c.status === 'FAILURE').map(describeFailure);
    const warnings = checks.filter((c) => c.status === 'WARNING').map(describeCheck);
    return { scenario, passed: failures.length === 0, failures, warnings };
  });
}

/** Scenario names the CLI reported in its summary (`✓ name: …` / `✗ name: …`). */
function summarised(output: string): string[] {
  return [...output.matchAll(/^[✓✗] ([\w./-]+): \d+ passed/gm)].map((m) => m[1]!);
}

/**
 * `conformance server --url <url> --suite all` (or `--scenario`), bounded by `timeoutMs`. A scenario the CLI
 * summarised but wrote no checks for (it threw) counts as failed.
 */
export async function runConformance(url: string, opts: RunConformanceOptions = {}): Promise<ConformanceRun> {
  const { node, cli } = conformanceCli(opts.version);
  const dir = makeTempDir('conformance');
  const args = [cli, 'server', '--url', url, ...(opts.scenario ? ['--scenario', opts.scenario] : ['--suite', opts.suite ?? 'all']), '-o', dir];
  if (opts.specVersion) args.push('--spec-version', opts.specVersion);
  const timeoutMs = opts.timeoutMs ?? 120_000;
  try {
    const { code, output } = await runToEnd(node, args, { timeoutMs, env: { ...process.env, NO_COLOR: '1' } });
    // 0: all passed; 1: some scenario failed. Anything else (killed, a usage error) is no result.
    if (code !== 0 && code !== 1) {
      throw new Error(`conformance suite against ${url} ended with ${code ?? `a kill after ${timeoutMs} ms`}\n--- output ---\n${output.slice(-4_000)}`);
    }
    const results = readResults(dir);
    const seen = new Set(results.map((r) => r.scenario));
    for (const scenario of summarised(output)) {
      if (!seen.has(scenario)) results.push({ scenario, passed: false, failures: [`${scenario}: the suite wrote no checks (see its output)`], warnings: [] });
    }
    return { results, output };
  } finally {
    removeDir(dir);
  }
}

/** The next suite's scenarios of the stateless revision (`--spec-version 2026-07-28`). */
export const STATELESS_SUITE: RunConformanceOptions = { version: 'next', specVersion: '2026-07-28' };

/** A result with every failure and warning, one per line, for a failing test's message. */
export const describeResult = (r: ScenarioResult): string => [`${r.scenario}:`, ...r.failures, ...r.warnings.map((w) => `warning ${w}`)].join('\n    ');

const checkId = (w: string): string => w.slice(0, w.indexOf(':'));

/**
 * A direct run of the suite, to compare runs through a gateway with: a scenario conforms through
 * a gateway when it has no failed check and no warning the direct run did not get too (a SHOULD
 * the backend meets that the gateway loses, such as resuming a stream, counts against it).
 */
export class Baseline {
  constructor(readonly direct: ConformanceRun) {}

  /** Scenarios that passed directly. */
  passed(): string[] {
    return this.direct.results.filter((r) => r.passed).map((r) => r.scenario);
  }

  newWarnings(r: ScenarioResult): string[] {
    const known = new Set((this.direct.results.find((d) => d.scenario === r.scenario)?.warnings ?? []).map(checkId));
    return r.warnings.filter((w) => !known.has(checkId(w)));
  }

  conforms(r: ScenarioResult): boolean {
    return r.passed && this.newWarnings(r).length === 0;
  }

  /** Why `r` does not conform, in one line: its first failure or new warning. */
  firstProblem(r: ScenarioResult): string {
    return r.failures[0] ?? `warning ${this.newWarnings(r)[0]}`;
  }
}
