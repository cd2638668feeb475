/**
 * `npm run bench:consul` (also the last part of `npm run bench`): the Consul discovery figures.
 *
 * 1. Catalog rebuild for 200 services × 20 tools, in process: mapping the services (KV JSON
 *    parsed and validated, URLs built), building the snapshot, and serialising every tools/list
 *    page; plus the heap that the result keeps (needs `--expose-gc`, which the npm script passes).
 * 2. Time from a Consul change to the `tools/list` that shows it, against a real `consul agent
 *    -dev` and a real gateway: a KV tool definition changed, an instance's health flipped
 *    (TTL check), a service registered / deregistered. Measured from just before the Consul write
 *    to the first tools/list answer that reflects it (tools/list polled back to back).
 *    Skipped with a note when the Consul binary is not installed.
 *
 * Knobs (env): BENCH_CONSUL_ROUNDS (20) changes per kind, BENCH_REBUILD_ROUNDS (20).
 */
import { performance } from 'node:perf_hooks';
import { Pool } from 'undici';
import { mapService, type HealthEntry } from '../src/catalog/consul/mapping.js';
import type { BackendDescriptor } from '../src/catalog/model.js';
import { buildSnapshot } from '../src/catalog/snapshot.js';
import { parseConfig } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { consulBin } from '../test/harness/components.js';
import { startConsul } from '../test/harness/consul.js';
import { installed } from './installed.js';
import { openSession } from './mcp-session.js';
import { median } from './stats.js';

const SERVICES = 200;
const TOOLS = 20;
const rounds = Number(process.env.BENCH_CONSUL_ROUNDS ?? 20);
const rebuildRounds = Number(process.env.BENCH_REBUILD_ROUNDS ?? 20);

const max = (xs: number[]): number => Math.max(...xs);
const fmt = (ms: number): string => `${ms.toFixed(1)} ms`;

function toolDefs(service: number, names: string[] = Array.from({ length: TOOLS }, (_, t) => `op_${String(t).padStart(2, '0')}`)): unknown[] {
  return names.map((name, t) => ({
    name,
    title: `Operation ${t} of service ${service}`,
    description: `Performs operation ${t} on service ${service}: looks up a resource by id and returns its current state as JSON.`,
    inputSchema: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' }, verbose: { type: 'boolean' } }, required: ['id'], additionalProperties: false },
    annotations: { readOnlyHint: true },
    http: { method: 'GET', path: `/r${t}/{id}` },
  }));
}

type Service = { name: string; kv: { key: string; text: string }; entries: HealthEntry[] };

/** One full rebuild from Consul data, timed by stage; the result is returned so it can be kept alive. */
function buildOnce(services: Service[], version: number): { kept: unknown; map: number; build: number; pages: number; pageBytes: number } {
  const t0 = performance.now();
  const backends = services.map((s) => mapService(s.name, s.entries, s.kv, { kvPrefix: 'mcp/tools/', openapiPrefix: 'mcp/openapi/', openapiUrls: [] }).backend).filter((b): b is BackendDescriptor => b !== undefined);
  const t1 = performance.now();
  const snapshot = buildSnapshot({ version, backends, discovered: new Map(), separator: '_', pageSize: 500 });
  const t2 = performance.now();
  let page = snapshot.page(undefined);
  let pageBytes = page.resultJson.length;
  while (page.nextCursor) {
    page = snapshot.page(page.nextCursor);
    pageBytes += page.resultJson.length;
  }
  const t3 = performance.now();
  if (snapshot.tools.size !== SERVICES * TOOLS) throw new Error(`expected ${SERVICES * TOOLS} tools, got ${snapshot.tools.size}`);
  return { kept: [backends, snapshot], map: t1 - t0, build: t2 - t1, pages: t3 - t2, pageBytes };
}

function rebuild(): void {
  const services: Service[] = Array.from({ length: SERVICES }, (_, s) => ({
    name: `svc${String(s).padStart(3, '0')}`,
    kv: { key: `mcp/tools/svc${s}`, text: JSON.stringify(toolDefs(s)) },
    entries: [1, 2, 3].map((i): HealthEntry => ({ Node: { Address: `10.0.${s % 250}.${i}` }, Service: { ID: `svc${s}-${i}`, Address: '', Port: 8000 + i, Meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' } } })),
  }));
  const times = { map: [] as number[], build: [] as number[], pages: [] as number[] };
  for (let r = -3; r < rebuildRounds; r++) {
    const t = buildOnce(services, r);
    if (r < 0) continue;
    times.map.push(t.map);
    times.build.push(t.build);
    times.pages.push(t.pages);
  }
  const total = times.map.map((m, i) => m + times.build[i]! + times.pages[i]!);
  console.log(`Catalog rebuild, ${SERVICES} services × ${TOOLS} tools (${SERVICES * TOOLS} tools, 3 instances each), ${rebuildRounds} rounds, median / max:`);
  console.log(`  map services (KV JSON parse + validation, URLs)   ${fmt(median(times.map))} / ${fmt(max(times.map))}`);
  console.log(`  build snapshot (names, collisions)                ${fmt(median(times.build))} / ${fmt(max(times.build))}`);
  console.log(`  serialise all tools/list pages (500 per page)     ${fmt(median(times.pages))} / ${fmt(max(times.pages))}`);
  console.log(`  total                                             ${fmt(median(total))} / ${fmt(max(total))}`);
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return void console.log('  heap: run with node --expose-gc to measure');
  // Pages are Buffers outside the JS heap; their size is exact, so it is summed rather than sampled.
  gc();
  const before = process.memoryUsage().heapUsed;
  const catalog = buildOnce(services, 0);
  gc();
  const heap = process.memoryUsage().heapUsed - before;
  const mib = (b: number): string => `${(b / 1024 / 1024).toFixed(1)} MiB`;
  console.log(`  memory kept by one catalog (inputs excluded): ${mib(heap)} JS heap + ${mib(catalog.pageBytes)} serialised tools/list pages`);
  if (!catalog.kept) throw new Error('unreachable');
}

async function latency(): Promise<void> {
  const agent = await startConsul();
  const put = async (path: string, body?: unknown): Promise<void> => {
    const res = await fetch(`${agent.url}${path}`, { method: 'PUT', ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
    if (!res.ok) throw new Error(`PUT ${path}: HTTP ${res.status}`);
  };
  const registerSvc = (name: string): Promise<void> =>
    put('/v1/agent/service/register', { ID: name, Name: name, Address: '127.0.0.1', Port: 9, Meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' }, Check: { CheckID: `service:${name}`, TTL: '10m', Status: 'passing' } });
  const gw = await runStandalone(parseConfig({ server: { port: 0 }, logging: { level: 'silent' }, catalog: { consul: { url: agent.url } } }));
  const u = new URL(gw.url);
  const pool = new Pool(u.origin, { connections: 1 });
  try {
    const session = await openSession(pool, u.pathname);
    const list = async (): Promise<Set<string>> => {
      const res = await pool.request({ path: u.pathname, method: 'POST', headers: session, body: '{"jsonrpc":"2.0","id":1,"method":"tools/list"}' });
      const body = (await res.body.json()) as { result: { tools: Array<{ name: string }> } };
      return new Set(body.result.tools.map((t) => t.name));
    };
    /** Ms from just before `change` until tools/list satisfies `done`. */
    const measure = async (change: () => Promise<void>, done: (names: Set<string>) => boolean): Promise<number> => {
      const t0 = performance.now();
      await change();
      for (;;) {
        if (done(await list())) return performance.now() - t0;
        if (performance.now() - t0 > 30_000) throw new Error('change not visible after 30 s');
      }
    };
    await put('/v1/kv/mcp/tools/svc', toolDefs(0, ['op']));
    await measure(() => registerSvc('svc'), (n) => n.has('svc_op'));
    const kinds: Record<string, number[]> = { 'KV tool definitions changed': [], 'instance health critical → passing': [], 'instance health passing → critical': [], 'service registered': [], 'service deregistered': [] };
    for (let i = 0; i < rounds; i++) {
      kinds['KV tool definitions changed']!.push(await measure(() => put('/v1/kv/mcp/tools/svc', toolDefs(0, [`op${i}`])), (n) => n.has(`svc_op${i}`)));
      kinds['instance health passing → critical']!.push(await measure(() => put('/v1/agent/check/fail/service:svc'), (n) => !n.has(`svc_op${i}`)));
      kinds['instance health critical → passing']!.push(await measure(() => put('/v1/agent/check/pass/service:svc'), (n) => n.has(`svc_op${i}`)));
      await put(`/v1/kv/mcp/tools/new${i}`, toolDefs(1, ['op']));
      kinds['service registered']!.push(await measure(() => registerSvc(`new${i}`), (n) => n.has(`new${i}_op`)));
      kinds['service deregistered']!.push(await measure(() => put(`/v1/agent/service/deregister/new${i}`), (n) => !n.has(`new${i}_op`)));
    }
    const all = Object.values(kinds).flat();
    console.log(`\nConsul change → tools/list showing it (real consul agent -dev, ${rounds} changes per kind), median / max:`);
    for (const [kind, xs] of Object.entries(kinds)) console.log(`  ${kind.padEnd(38)} ${fmt(median(xs))} / ${fmt(max(xs))}`);
    console.log(`  ${'all changes'.padEnd(38)} ${fmt(median(all))} / ${fmt(max(all))}   (target: within 2000 ms: ${max(all) <= 2000 ? 'met' : 'NOT MET'})`);
  } finally {
    await pool.close();
    await gw.stop();
    await agent.stop();
  }
}

async function main(): Promise<void> {
  rebuild();
  if (!installed(consulBin)) console.log('\nConsul change latency: skipped, no consul binary (run `bash scripts/install-components.sh`).');
  else await latency();
}

main().catch((err: unknown) => {
  console.error('bench:consul failed:', err);
  process.exitCode = 1;
});
