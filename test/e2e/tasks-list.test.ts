/**
 * `tasks/list` (2025-11-25 tasks) through the gateway, with the official SDK 1.x client in front
 * (`client.experimental.tasks.listTasks`) and SDK 1.x backends with task tools behind
 * (test/conformance/task-backend.ts): a session lists the tasks its own calls created, on every
 * backend, under the ids it was given, each with the status its backend reports now; another
 * session lists none of them; pages follow the gateway's cursor; a backend that is down fails no
 * listing, and a task its backend forgot drops out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CallToolResultSchema, CreateTaskResultSchema, McpError, type Task } from '@modelcontextprotocol/sdk/types.js';
import type { McpHttpServer } from '../../examples/backends/mcp-http.js';
import { startTaskConformanceBackend } from '../conformance/task-backend.js';
import { connectClient } from '../support/client.js';
import { freezableRelay, type FreezableRelay } from '../support/freezable-relay.js';
import { MCP_HEADERS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { waitFor } from '../support/wait.js';

let alpha: McpHttpServer;
let beta: McpHttpServer;
let gamma: McpHttpServer;
let gw: TestGateway;
let dir: string;
let auditFile: string;
const clients: Client[] = [];
let idp: TestIdp;
let guarded: TestGateway;
const AUDIENCE = 'http://gateway.test/mcp';

async function client(): Promise<Client> {
  const { client: c } = await connectClient(gw.url, 'lister');
  clients.push(c);
  return c;
}

/** A task-augmented call of `tool`: the id of the task it created, as the client sees it. */
async function createTask(c: Client, tool: string, args: Record<string, unknown>, ttl = 120_000): Promise<string> {
  const created = await c.request({ method: 'tools/call', params: { name: tool, arguments: args, task: { ttl } } }, CreateTaskResultSchema);
  return created.task.taskId;
}

/** Every task the session lists, page after page. */
async function listAll(c: Client): Promise<{ tasks: Task[]; pages: number; unavailable: string[] }> {
  const tasks: Task[] = [];
  const unavailable: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await c.experimental.tasks.listTasks(cursor);
    pages++;
    tasks.push(...page.tasks);
    unavailable.push(...((page._meta?.['io.github.mcp-gateway/unavailable-tasks'] as string[] | undefined) ?? []));
    cursor = page.nextCursor;
  } while (cursor);
  return { tasks, pages, unavailable };
}

const statusOf = async (c: Client, taskId: string) => (await listAll(c)).tasks.find((t) => t.taskId === taskId)?.status;

beforeAll(async () => {
  [alpha, beta, gamma] = await Promise.all([startTaskConformanceBackend(), startTaskConformanceBackend(), startTaskConformanceBackend()]);
  dir = await mkdtemp(join(tmpdir(), 'gw-tasks-list-'));
  auditFile = join(dir, 'audit.jsonl');
  gw = await startGateway({
    // Two per page: the listing below spans pages.
    catalog: { pageSize: 2 },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
    backends: [
      { name: 'alpha', kind: 'mcp', urls: [alpha.url] },
      { name: 'beta', kind: 'mcp', urls: [beta.url] },
      { name: 'gamma', kind: 'mcp', urls: [gamma.url] },
    ],
  });
  await waitFor(() => ['alpha', 'beta', 'gamma'].every((b) => gw.core.catalog.current().tools.has(`${b}_slow_compute`)), 'discovery', 15_000);
  idp = await startIdp([{ id: 'alice' }], AUDIENCE);
  guarded = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, requiredScopes: ['tools:call'], scopesSupported: ['tools:call', 'orders:write'], jwksCooldownMs: 0, jwksRefreshMs: 200 },
    backends: [
      { name: 'alpha', kind: 'mcp', urls: [alpha.url] },
      { name: 'beta', kind: 'mcp', urls: [beta.url], requiredScopes: ['orders:write'] },
    ],
  });
  await waitFor(() => guarded.core.catalog.current().tools.has('beta_slow_compute'), 'discovery behind auth', 15_000);
}, 30_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await gw?.stop();
  await guarded?.stop();
  await idp?.close();
  await Promise.all([alpha?.close(), beta?.close(), gamma?.close().catch(() => undefined)]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('tasks/list', () => {
  it('is announced to session clients', async () => {
    const c = await client();
    expect(c.getServerCapabilities()?.tasks).toMatchObject({ list: {}, cancel: {} });
  });

  it("lists the session's tasks on every backend, under its ids, each with its status now; another session lists none", async () => {
    const owner = await client();
    const done = await createTask(owner, 'alpha_slow_compute', { seconds: 0, label: 'quick' });
    const running = await createTask(owner, 'alpha_slow_compute', { seconds: 600 });
    const cancelled = await createTask(owner, 'beta_slow_compute', { seconds: 600 });
    const failed = await createTask(owner, 'beta_failing_job', {});
    expect([done, running, cancelled, failed].map((id) => id.split('/')[0])).toEqual(['alpha', 'alpha', 'beta', 'beta']);
    await owner.experimental.tasks.cancelTask(cancelled);
    await waitFor(async () => (await statusOf(owner, done)) === 'completed' && (await statusOf(owner, failed)) === 'failed', 'the quick task completed and the job failed', 10_000);

    const listed = await listAll(owner);
    expect(listed.tasks.map((t) => t.taskId).sort()).toEqual([done, running, cancelled, failed].sort());
    expect(Object.fromEntries(listed.tasks.map((t) => [t.taskId, t.status]))).toEqual({ [done]: 'completed', [running]: 'working', [cancelled]: 'cancelled', [failed]: 'failed' });
    // Each as a Task, as tasks/get has it.
    const got = await owner.experimental.tasks.getTask(running);
    expect(listed.tasks.find((t) => t.taskId === running)).toEqual({ taskId: got.taskId, status: got.status, ttl: got.ttl, createdAt: got.createdAt, lastUpdatedAt: got.lastUpdatedAt, pollInterval: got.pollInterval });
    expect(listed.unavailable).toEqual([]);

    const stranger = await client();
    await createTask(stranger, 'gamma_slow_compute', { seconds: 600 });
    const theirs = await listAll(stranger);
    expect(theirs.tasks.map((t) => t.taskId)).toEqual([expect.stringMatching(/^gamma\//)]);
    expect(theirs.tasks.map((t) => t.taskId)).not.toContain(running);
  });

  it('pages with an opaque cursor the gateway made, and refuses one it did not with -32602', async () => {
    const c = await client();
    const ids = [];
    for (let i = 0; i < 5; i++) ids.push(await createTask(c, i % 2 ? 'alpha_slow_compute' : 'beta_slow_compute', { seconds: 600 }));
    const first = await c.experimental.tasks.listTasks();
    expect(first.tasks).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const all = await listAll(c);
    expect(all.pages).toBe(3);
    // No task twice, none left out.
    expect(all.tasks.map((t) => t.taskId).sort()).toEqual(ids.sort());

    const refused = await c.experimental.tasks.listTasks('not-a-cursor!').catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(McpError);
    expect((refused as McpError).code).toBe(-32602);
  });

  it('reads each task with one audited tasks/get to its backend', async () => {
    const c = await client();
    const id = await createTask(c, 'alpha_slow_compute', { seconds: 600 });
    await c.experimental.tasks.listTasks();
    const audited = async () => (await readFile(auditFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    await waitFor(async () => (await audited()).some((e) => e.target === id && e.method === 'tasks/get'), 'the audit event of the read', 5_000);
    expect((await audited()).find((e) => e.target === id && e.method === 'tasks/get')).toMatchObject({ event: 'mcp.request', kind: 'task', backend: 'alpha', outcome: 'ok' });
  });

  it('drops a task its backend forgot, and the session forgets it too', async () => {
    const { client: c, transport } = await connectClient(gw.url, 'forgetter');
    clients.push(c);
    const kept = await createTask(c, 'alpha_slow_compute', { seconds: 600 });
    // The backend's task store deletes a task when its ttl has passed.
    const expiring = await createTask(c, 'alpha_slow_compute', { seconds: 600 }, 200);
    await waitFor(async () => !(await listAll(c)).tasks.some((t) => t.taskId === expiring), 'the expired task dropped out', 10_000);
    const listed = await listAll(c);
    expect(listed.tasks.map((t) => t.taskId)).toEqual([kept]);
    expect(listed.unavailable).toEqual([]);
    // Later listings do not ask its backend again: the session's record holds the kept task only.
    expect((await gw.core.sessions.current(transport.sessionId!))?.tasks).toEqual([kept]);
  });

  it('lists what it can when a backend is down, naming the tasks it could not read', async () => {
    const c = await client();
    const up = await createTask(c, 'alpha_slow_compute', { seconds: 600 });
    const down = await createTask(c, 'gamma_slow_compute', { seconds: 600 });
    await gamma.close();
    const listed = await listAll(c);
    expect(listed.tasks.map((t) => t.taskId)).toEqual([up]);
    expect(listed.unavailable).toEqual([down]);
  });

  it("leaves out the tasks of a backend whose scopes the caller's token no longer has, as tasks/get refuses them", async () => {
    const post = async (token: string, sid: string | undefined, method: string, params: Record<string, unknown>) => {
      const res = await fetch(guarded.url, {
        method: 'POST',
        headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, ...(sid ? { 'mcp-session-id': sid } : {}) },
        body: JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }),
      });
      const text = await res.text();
      const body = text.trimStart().startsWith('{') ? JSON.parse(text) : text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5))).find((m) => 'result' in m || 'error' in m);
      return { status: res.status, sid: res.headers.get('mcp-session-id'), body };
    };
    const both = await idp.token('alice', { scope: 'tools:call orders:write' });
    const sid = (await post(both, undefined, 'initialize', { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'scoped', version: '1' } })).sid!;
    const mine = (await post(both, sid, 'tools/call', { name: 'alpha_slow_compute', arguments: { seconds: 600 }, task: { ttl: 60_000 } })).body.result.task.taskId;
    const guardedTask = (await post(both, sid, 'tools/call', { name: 'beta_slow_compute', arguments: { seconds: 600 }, task: { ttl: 60_000 } })).body.result.task.taskId;
    expect((await post(both, sid, 'tasks/list', {})).body.result.tasks.map((t: Task) => t.taskId).sort()).toEqual([mine, guardedTask].sort());

    // The same caller, the same session, a token without the scope beta wants.
    const fewer = await idp.token('alice', { scope: 'tools:call' });
    expect((await post(fewer, sid, 'tasks/get', { taskId: guardedTask })).status).toBe(403);
    expect((await post(fewer, sid, 'tasks/list', {})).body.result.tasks.map((t: Task) => t.taskId)).toEqual([mine]);
  });
});

describe('tasks of a backend with maxConcurrentCalls', () => {
  let capped: McpHttpServer;
  let gw1: TestGateway;
  let c: Client;

  beforeAll(async () => {
    capped = await startTaskConformanceBackend();
    gw1 = await startGateway({ backends: [{ name: 'capped', kind: 'mcp', urls: [capped.url], maxConcurrentCalls: 1 }] });
    await waitFor(() => gw1.core.catalog.current().tools.has('capped_slow_compute'), 'discovery', 15_000);
    ({ client: c } = await connectClient(gw1.url, 'capped-lister'));
  }, 30_000);

  afterAll(async () => {
    await c?.close().catch(() => undefined);
    await gw1?.stop();
    await capped?.close();
  });

  it('lists every idle task of a backend capped at one call: its reads take no slot', async () => {
    const ids = [];
    for (let i = 0; i < 4; i++) ids.push(await createTask(c, 'capped_slow_compute', { seconds: 600 }));
    const listed = await listAll(c);
    expect(listed.unavailable).toEqual([]);
    expect(listed.tasks.map((t) => t.taskId).sort()).toEqual([...ids].sort());
  });

  it('takes a call while a tasks/result of the session waits: the wait holds no slot', { timeout: 20_000 }, async () => {
    const long = await createTask(c, 'capped_slow_compute', { seconds: 3 });
    // (The backend's SDK 1.32.2 adds an abort listener per poll while it waits: its
    // MaxListenersExceededWarning comes from Server._waitForTaskUpdate, not from the gateway.)
    const waiting = c.experimental.tasks.getTaskResult(long, CallToolResultSchema);
    // The backend's only slot is free for another call while the result is awaited.
    await new Promise((r) => setTimeout(r, 300));
    const other = await c.callTool({ name: 'capped_slow_compute', arguments: { seconds: 0 } });
    expect(other.isError ?? false).toBe(false);
    expect((await waiting).content).toEqual([{ type: 'text', text: 'computed  after 3s' }]);
  });
});

describe('a tasks/list its client cancels', () => {
  let backend: McpHttpServer;
  let relay: FreezableRelay;
  let gw2: TestGateway;
  let auditDir: string;

  beforeAll(async () => {
    backend = await startTaskConformanceBackend();
    // The backend is reached through a relay that can hang like a stuck process.
    relay = await freezableRelay(Number(new URL(backend.url).port));
    auditDir = await mkdtemp(join(tmpdir(), 'gw-tasks-cancel-'));
    gw2 = await startGateway({
      audit: { sink: 'file', file: join(auditDir, 'audit.jsonl'), flushIntervalMs: 0 },
      backends: [{ name: 'hung', kind: 'mcp', urls: [`http://127.0.0.1:${relay.port}/mcp`], timeoutMs: 20_000 }],
    });
    await waitFor(() => gw2.core.catalog.current().tools.has('hung_slow_compute'), 'discovery', 15_000);
  }, 30_000);

  afterAll(async () => {
    await gw2?.stop();
    await relay?.close();
    await backend?.close();
    if (auditDir) await rm(auditDir, { recursive: true, force: true });
  });

  it('stops every one of its reads, not only the last one started, and answers nothing', { timeout: 30_000 }, async () => {
    const { client: c, transport } = await connectClient(gw2.url, 'canceller');
    clients.push(c);
    const sessionId = transport.sessionId!;
    const ids = [await createTask(c, 'hung_slow_compute', { seconds: 600 }), await createTask(c, 'hung_slow_compute', { seconds: 600 }), await createTask(c, 'hung_slow_compute', { seconds: 600 })];
    relay.freeze();
    // On the wire, to see what the gateway answers a listing its client cancelled.
    const listing = rawPost(gw2.url, sessionId, { jsonrpc: '2.0', id: 'list-1', method: 'tasks/list', params: {} }, { 'mcp-protocol-version': '2025-11-25' });
    await waitFor(() => gw2.core.broker.running > 0, 'the listing running');
    const cancel = await rawPost(gw2.url, sessionId, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 'list-1', reason: 'the user gave up' } }, { 'mcp-protocol-version': '2025-11-25' });
    expect(cancel.status).toBe(202);
    // A cancelled request gets no answer: not a page claiming every task unavailable.
    const answered = await listing;
    expect([answered.status, await answered.text()]).toEqual([204, '']);
    // Each read ends as cancelled at once, none waits out the backend's 20 s budget.
    const reads = async () =>
      (await readFile(join(auditDir, 'audit.jsonl'), 'utf8').catch(() => ''))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.method === 'tasks/get' && ids.includes(e.target));
    await waitFor(async () => (await reads()).length === 3, 'the three reads ended', 10_000);
    expect((await reads()).map((e) => e.outcome)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(gw2.core.broker.running).toBe(0);
  });
});

