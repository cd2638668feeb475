/**
 * `npm run bench`: the gateway against a direct, no-proxy baseline in one run.
 *
 * Process layout (honest on a 2-core machine): the backends in one child, the gateways in
 * another, the load generator here, talking over 127.0.0.1 with keep-alive undici pools.
 *
 * Each scenario runs three kinds of load, direct and gateway alike:
 * - closed loop at the low concurrencies (default c=1): the unloaded cost of one hop;
 * - open loop at a fixed rate ("moderate load"): the latency targets (added p50/p99, listing
 *   p99) are judged here, because closed loop at c=8 saturates the gateway's core on a small
 *   machine and then latency is mostly queueing (≈ concurrency / throughput);
 * - closed loop at the highest concurrency (default c=8): saturation, where the throughput
 *   target (gateway / direct max req/s) is judged.
 *
 * Scenarios: `rest` and `mcp` tool calls, `read` (resources/read) and `prompt` (prompts/get) of a
 * native backend, each against the same backend without the gateway; `list1000`, `list500` and
 * `rlist1000` (tools/list and resources/list over 1,000 entries from 20 backends) against the
 * same number of bytes served statically.
 *
 * Knobs (env): those of bench/plan.ts, plus BENCH_LIST_RATE req/s for listings (200);
 * BENCH_SCENARIOS (comma list of rest,mcp,read,prompt,list1000,list500,rlist1000; default all),
 * BENCH_CPU_PROF=1 to write a V8 CPU profile of the gateway process under dist/bench-prof/
 * (summarise it with `node dist/bench/prof-summary.js <file>`).
 */
import { cpus, loadavg } from 'node:os';
import { startChild, type Child } from './children.js';
import { openSession } from './mcp-session.js';
import { closePools, env, gatewayNodeFlags, lagWarning, measure, plan, poolFor, writeResults } from './plan.js';
import { DOC, DOCS_PREFIX, PROMPT } from './docs-fixture.js';
import { isListing, legend, table, verdicts, verdictTable, type Row } from './report.js';
import * as t from './targets.js';

const { saturation } = plan;
const rates = { call: plan.callRate, list: env('BENCH_LIST_RATE', 200) };
const only = process.env.BENCH_SCENARIOS?.split(',');

async function main(): Promise<void> {
  const started = Date.now();
  const children: Child[] = [];
  try {
    const backends = await startChild(['backends']);
    children.push(backends);
    const gateway = await startChild(['gateway', JSON.stringify(backends.urls)], gatewayNodeFlags);
    children.push(gateway);
    console.log(`bench: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; backends pid ${backends.pid}, gateway pid ${gateway.pid}${gatewayNodeFlags.includes('--cpu-prof') ? ' (cpu-prof)' : ''}`);

    const orders = poolFor(backends.urls.orders!);
    const echo = poolFor(backends.urls.echo!);
    const docs = poolFor(backends.urls.docs!);
    const stub = poolFor(backends.urls.stub!);
    const calls = poolFor(gateway.urls.calls!);
    const l1000 = poolFor(gateway.urls.list1000!);
    const l500 = poolFor(gateway.urls.list500!);
    // The docs backend's resource and prompt as the gateway publishes them (docs/configuration.md#resources-and-prompts).
    const gatewayUri = `mcpgw://${DOCS_PREFIX}/${DOC.uri}`;
    const gatewayPrompt = `${DOCS_PREFIX}_${PROMPT.name}`;
    const all: Array<{ name: string; direct?: t.Target; gateway: t.Target; requests?: number }> = [
      { name: 'rest', direct: t.restDirect(orders.pool), gateway: t.restGateway(calls.pool, calls.path, await openSession(calls.pool, calls.path)) },
      {
        name: 'mcp',
        direct: t.mcpDirect(echo.pool, echo.path, await openSession(echo.pool, echo.path)),
        gateway: t.mcpGateway(calls.pool, calls.path, await openSession(calls.pool, calls.path)),
      },
      {
        name: 'read',
        direct: t.readResource(`MCP direct resources/read ${DOC.uri}`, docs.pool, docs.path, await openSession(docs.pool, docs.path), DOC.uri),
        gateway: t.readResource(`MCP via gateway resources/read ${gatewayUri}`, calls.pool, calls.path, await openSession(calls.pool, calls.path), gatewayUri),
      },
      {
        name: 'prompt',
        direct: t.getPrompt(`MCP direct prompts/get ${PROMPT.name}`, docs.pool, docs.path, await openSession(docs.pool, docs.path), PROMPT.name),
        gateway: t.getPrompt(`MCP via gateway prompts/get ${gatewayPrompt}`, calls.pool, calls.path, await openSession(calls.pool, calls.path), gatewayPrompt),
      },
      { name: 'list1000', gateway: t.listPage('tools/list 1000 tools, pageSize 1000', l1000.pool, l1000.path, await openSession(l1000.pool, l1000.path), 'tools', 1000, false), requests: plan.closed.requests / 2 },
      { name: 'list500', gateway: t.listPage('tools/list first page, pageSize 500', l500.pool, l500.path, await openSession(l500.pool, l500.path), 'tools', 500, true), requests: plan.closed.requests / 2 },
      { name: 'rlist1000', gateway: t.listPage('resources/list 1000 resources, pageSize 1000', l1000.pool, l1000.path, await openSession(l1000.pool, l1000.path), 'resources', 1000, false), requests: plan.closed.requests / 2 },
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
      const sides = [['direct', s.direct!], ['gateway', s.gateway]] as const;
      rows.push(...(await measure(s.name, sides, { rate: isListing(s.name) ? rates.list : rates.call, requests: s.requests })));
    }
    process.stdout.write('\n\n');

    const list = verdicts(rows, saturation);
    console.log(table(rows));
    console.log(legend(rows));
    console.log(`\nGateway vs direct. Judged (met / NOT MET): added p50/p99 on the fixed-rate rows (tool calls, reads, prompts at ${rates.call}/s),`);
    console.log(`cached listing p99 on the gateway's fixed-rate rows (listings at ${rates.list}/s: list1000 = the issue's 1,000 tools`);
    console.log(`from 20 backends, full listing; list500 = first page of 500; rlist1000 = 1,000 resources from 20 backends, full listing),`);
    console.log(`throughput ratio on closed loop c=${saturation} (saturation).`);
    console.log('Figures in parentheses are context, not judged:');
    console.log(verdictTable(list));
    const lagged = lagWarning(rows);
    if (lagged) console.log(lagged);
    const judged = list.filter((v) => v.judged);
    console.log(`\n${judged.filter((v) => v.met).length}/${judged.length} targets met (latency at ${rates.call}/s calls, reads and prompts, ${rates.list}/s listings; throughput at c=${saturation}); run took ${((Date.now() - started) / 1000).toFixed(1)} s`);
    console.log(`results written to ${writeResults('bench-results.json', { rates }, rows, list)}`);
  } finally {
    await closePools();
    await Promise.allSettled(children.reverse().map((c) => c.stop()));
  }
}

main().catch((err: unknown) => {
  console.error('bench failed:', err);
  process.exitCode = 1;
});
