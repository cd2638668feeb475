/**
 * The fault test with real processes: three instances of a REST tool service found in
 * Consul (HTTP health checks every second), one killed with SIGKILL during a stream of calls.
 * Read-only calls see no failure; a side-effecting call is never executed twice, counted at the
 * backends themselves (each instance appends every execution to its own file).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { startProcess, type ProcessHandle } from '../harness/process.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { connectClient } from '../support/client.js';
import { kvPut, register, waitFor } from '../support/consul-api.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

const SERVICE = fileURLToPath(new URL('../support/tool-service.mjs', import.meta.url));
const TOOLS = [
  { name: 'list_items', annotations: { readOnlyHint: true }, http: { method: 'GET', path: '/items' } },
  { name: 'record', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, http: { method: 'POST', path: '/records' } },
];

let consul: ConsulHandle;
let gw: TestGateway;
let client: Client;
const dir = makeTempDir('tool-service');
const procs: ProcessHandle[] = [];

interface Instance {
  readonly proc: ProcessHandle;
  readonly log: string;
}

/** Start `n` instances as processes, register each with an HTTP check, wait until all receive traffic. */
async function instances(service: string, n: number): Promise<Instance[]> {
  const out: Instance[] = [];
  for (let i = 0; i < n; i++) {
    const log = join(dir, `${service}-${i}.log`);
    const proc = await startProcess({ name: `${service}-${i}`, cmd: process.execPath, args: [SERVICE, log, `${service}-${i}`], ready: async (ctx) => /listening \d+/.test(ctx.output()) });
    procs.push(proc);
    const port = /listening (\d+)/.exec(proc.output())![1];
    await register(consul.url, { id: `${service}-${i}`, name: service, url: `http://127.0.0.1:${port}`, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' }, check: { kind: 'http', path: '/health' } });
    out.push({ proc, log });
  }
  await waitFor(() => urls(service).length === n, `${n} passing instances of ${service}`, 15_000);
  return out;
}

const urls = (service: string): readonly string[] => gw.core.catalog.current().backends.get(service)?.urls ?? [];
const executions = (list: Instance[]): string[] => list.flatMap((i) => readFileSync(i.log, { flag: 'a+' }).toString().split('\n').filter(Boolean));

/**
 * Calls with 4 in flight. One instance is killed after `killAfter` answers; the stream goes on until
 * Consul has taken the instance out and 50 more calls have been answered, so calls made both
 * before and after Consul noticed are covered.
 */
async function stream(service: string, victim: Instance, killAfter: number, call: (n: number) => Promise<Record<string, unknown>>): Promise<Array<{ n: number; r: Record<string, unknown> }>> {
  const results: Array<{ n: number; r: Record<string, unknown> }> = [];
  let next = 0;
  let removedAt: number | undefined;
  const worker = async (): Promise<void> => {
    while (removedAt === undefined || results.length < removedAt + 50) {
      const n = next++;
      results.push({ n, r: await call(n) });
      if (results.length === killAfter) victim.proc.kill();
      if (removedAt === undefined && results.length > killAfter && urls(service).length === 2) removedAt = results.length;
      if (results.length > 5_000) throw new Error('Consul never took the killed instance out');
    }
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
  return results;
}

beforeAll(async () => {
  consul = await startConsul();
  await kvPut(consul.url, 'mcp/tools/stock', TOOLS);
  await kvPut(consul.url, 'mcp/tools/ledger', TOOLS);
  gw = await startGateway({ catalog: { consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500 } } });
  ({ client } = await connectClient(gw.url));
});

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await Promise.all(procs.map((p) => p.stop()));
  await consul?.stop();
  removeDir(dir);
});

describe('an instance killed during a stream of calls', () => {
  it('costs read-only calls nothing: they move to the surviving instances', async () => {
    const list = await instances('stock', 3);
    const results = await stream('stock', list[0]!, 60, () => client.callTool({ name: 'stock_list_items', arguments: {} }));
    const failed = results.filter(({ r }) => r.isError);
    expect(failed.map(({ r }) => r.content)).toEqual([]);
    expect(results.length).toBeGreaterThan(110);
  }, 60_000);

  it('never executes a side-effecting call twice', async () => {
    const list = await instances('ledger', 3);
    const results = await stream('ledger', list[1]!, 60, (n) => client.callTool({ name: 'ledger_record', arguments: { id: `call-${n}` } }));
    const runs = new Map<string, number>();
    for (const id of executions(list)) runs.set(id, (runs.get(id) ?? 0) + 1);
    expect([...runs].filter(([, count]) => count > 1)).toEqual([]);
    for (const { n, r } of results) {
      if (!r.isError) expect(runs.get(`call-${n}`), `call-${n} succeeded`).toBe(1);
      else expect((r.content as Array<{ text: string }>)[0]!.text).toContain('not retried elsewhere because the tool may have side effects');
    }
    // Only calls in flight on the killed instance can fail (4 at most); all others succeed.
    const failed = results.filter(({ r }) => r.isError).length;
    expect(failed).toBeLessThanOrEqual(4);
    expect(executions([list[1]!]).length, 'the killed instance had its share before').toBeGreaterThan(5);
    if (process.env.TEST_REPORT) console.log(`ledger: ${results.length} calls, ${failed} failed (in flight on the killed instance), ${runs.size} executed once`);
  }, 60_000);
});
