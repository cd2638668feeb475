/**
 * `npm run bench`: the gateway against a direct, no-proxy baseline in one run.
 *
 * Process layout (honest on a 2-core machine): the backends in one child, the gateways in
 * another, the load generator here, talking over 127.0.0.1 with keep-alive undici pools.
 * Knobs (env): BENCH_CONCURRENCY (default "1,8"; the last is the load the targets are judged
 * at), BENCH_REQUESTS (4000), BENCH_WARMUP (500), BENCH_MAX_MS per phase (10000),
 * BENCH_SCENARIOS (comma list of rest,mcp,list1000,list500; default all), BENCH_CPU_PROF=1 to
 * write a V8 CPU profile of the gateway process under dist/bench-prof/ (summarise it with
 * `node dist/bench/prof-summary.js <file>`).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Pool } from 'undici';
import { startChild, type Child } from './children.js';
import { runLoad, type LoadOptions } from './load.js';
import { openSession } from './mcp-session.js';
import { legend, table, verdicts, verdictTable, TARGETS, type Row } from './report.js';
import * as t from './targets.js';

const env = (name: string, fallback: number): number => Number(process.env[name] ?? fallback);
const concurrencies = (process.env.BENCH_CONCURRENCY ?? '1,8').split(',').map(Number);
const loadConcurrency = concurrencies[concurrencies.length - 1]!;
const base = { warmup: env('BENCH_WARMUP', 500), requests: env('BENCH_REQUESTS', 4000), maxMs: env('BENCH_MAX_MS', 10_000) };
const only = process.env.BENCH_SCENARIOS?.split(',');
const distDir = fileURLToPath(new URL('..', import.meta.url));

const pools: Pool[] = [];
/** One keep-alive pool per origin, as wide as the highest concurrency so no request waits for a socket. */
function poolFor(url: string): { pool: Pool; path: string } {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: Math.max(...concurrencies), keepAliveTimeout: 60_000 });
  pools.push(pool);
  return { pool, path: u.pathname };
}

async function main(): Promise<void> {
  const started = Date.now();
  const children: Child[] = [];
  try {
    const backends = await startChild(['backends']);
    children.push(backends);
    const prof = process.env.BENCH_CPU_PROF === '1' ? ['--cpu-prof', `--cpu-prof-dir=${distDir}bench-prof`] : [];
    const gateway = await startChild(['gateway', JSON.stringify(backends.urls)], prof);
    children.push(gateway);
    console.log(`bench: node ${process.version}, ${cpus().length} CPUs; backends pid ${backends.pid}, gateway pid ${gateway.pid}${prof.length ? ' (cpu-prof)' : ''}`);

    const orders = poolFor(backends.urls.orders!);
    const echo = poolFor(backends.urls.echo!);
    const stub = poolFor(backends.urls.stub!);
    const calls = poolFor(gateway.urls.calls!);
    const l1000 = poolFor(gateway.urls.list1000!);
    const l500 = poolFor(gateway.urls.list500!);
    const all: Array<{ name: string; direct?: t.Target; gateway: t.Target; requests?: number }> = [
      { name: 'rest', direct: t.restDirect(orders.pool), gateway: t.restGateway(calls.pool, calls.path, await openSession(calls.pool, calls.path)) },
      {
        name: 'mcp',
        direct: t.mcpDirect(echo.pool, echo.path, await openSession(echo.pool, echo.path)),
        gateway: t.mcpGateway(calls.pool, calls.path, await openSession(calls.pool, calls.path)),
      },
      { name: 'list1000', gateway: t.listTools('tools/list 1000 tools, pageSize 1000', l1000.pool, l1000.path, await openSession(l1000.pool, l1000.path), 1000, false), requests: base.requests / 2 },
      { name: 'list500', gateway: t.listTools('tools/list first page, pageSize 500', l500.pool, l500.path, await openSession(l500.pool, l500.path), 500, true), requests: base.requests / 2 },
    ];
    const scenarios = all.filter((s) => !only || only.includes(s.name));
    for (const s of scenarios) {
      if (s.direct) console.log(`  check ${s.name}: ${s.direct.label} -> ${(await s.direct.verify()).note}`);
      const g = await s.gateway.verify();
      console.log(`  check ${s.name}: ${s.gateway.label} -> ${g.note}`);
      // A listing has no no-proxy twin; compare it with the same number of bytes served statically.
      if (!s.direct) s.direct = t.payloadFloor(stub.pool, g.bytes);
    }

    const rows: Row[] = [];
    for (const s of scenarios) {
      for (const concurrency of concurrencies) {
        const opts: LoadOptions = { ...base, concurrency, requests: s.requests ?? base.requests };
        if (s.direct) rows.push({ scenario: s.name, side: 'direct', concurrency, label: s.direct.label, summary: await runLoad(s.direct, opts) });
        rows.push({ scenario: s.name, side: 'gateway', concurrency, label: s.gateway.label, summary: await runLoad(s.gateway, opts) });
        process.stdout.write('.');
      }
    }
    process.stdout.write('\n\n');

    const list = verdicts(rows);
    console.log(table(rows));
    console.log(legend(rows));
    console.log(`\nGateway vs direct (targets judged at c=${loadConcurrency}; other loads in parentheses):`);
    console.log(verdictTable(list, loadConcurrency));
    const judged = list.filter((v) => v.concurrency === loadConcurrency && v.met !== null);
    console.log(`\n${judged.filter((v) => v.met).length}/${judged.length} targets met at c=${loadConcurrency}; run took ${((Date.now() - started) / 1000).toFixed(1)} s`);

    const out = `${distDir}bench-results.json`;
    mkdirSync(distDir, { recursive: true });
    const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, concurrencies, ...base, targets: TARGETS };
    writeFileSync(out, `${JSON.stringify({ meta, rows, verdicts: list }, null, 2)}\n`);
    console.log(`results written to ${out}`);
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    await Promise.allSettled(children.reverse().map((c) => c.stop()));
  }
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
