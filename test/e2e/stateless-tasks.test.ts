/**
 * The tasks extension (`io.modelcontextprotocol/tasks`) for stateless (2026-07-28) clients,
 * bridged to a session-era backend's 2025-11-25 tasks: the official 2.4 SDK client pinned to
 * 2026-07-28 with the extension declared, through the standalone gateway (with a real OpenID
 * provider, so two callers are two identities) to an SDK 1.x server with a task store. A task tool
 * call creates a task in the caller's held backend session; tasks/get polls it and inlines the
 * result; tasks/cancel cancels it; another caller's task id is unknown.
 *
 * The 2.4 SDK client sends the extension's requests (its `request()` with a result schema), but
 * its 2026-07-28 decoder refuses any `resultType` but `complete` and `input_required` ("Unsupported
 * result type 'task'") and strips `resultType` from what it returns: the test reads the gateway's
 * answers off the client's own wire (its transport's `fetch`) to check their shape.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, StreamableHTTPClientTransport } from '@modelcontextprotocol/client';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { waitFor } from '../support/wait.js';

const AUDIENCE = 'http://gateway.test/mcp';
const TASKS = 'io.modelcontextprotocol/tasks';
/** Results are checked by the test, not by the SDK: the extension's shapes are what is under test. */
const ANY = z.object({}).passthrough();

let idp: TestIdp;
let backend: McpHttpServer;
let gw: TestGateway;
const clients: Client[] = [];

/** A 2.4 client and the JSON-RPC answers its transport received, in order. */
interface Tasker {
  readonly client: Client;
  readonly wire: any[];
}

/** The last JSON-RPC answer of a JSON or SSE body. */
function answerIn(text: string): any {
  if (text.trimStart().startsWith('{')) return JSON.parse(text);
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)));
  return data.reverse().find((m) => 'result' in m || 'error' in m);
}

/** A 2.4 client pinned to 2026-07-28 as `who`, declaring the tasks extension unless told not to. */
async function clientOf(who: string, extension = true, more: Record<string, unknown> = {}): Promise<Tasker> {
  const token = await idp.token(who, { scope: 'tools:call' });
  const capabilities = { ...more, ...(extension ? { extensions: { [TASKS]: {} } } : {}) };
  const client = new Client({ name: `tasks-${who}`, version: '2.4.0' }, { capabilities, versionNegotiation: { mode: { pin: '2026-07-28' } } } as never);
  const wire: any[] = [];
  const seeing = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const res = await fetch(input, init);
    if (init?.method === 'POST') wire.push(answerIn(await res.clone().text()));
    return res;
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url), { fetch: seeing, requestInit: { headers: { authorization: `Bearer ${token}` } } } as never));
  clients.push(client);
  return { client, wire };
}

const request = (t: Tasker, method: string, params: Record<string, unknown>): Promise<any> => t.client.request({ method, params } as never, ANY);

/** A tools/call's result as the gateway sent it (a created task is one the SDK client cannot decode). */
async function called(t: Tasker, params: Record<string, unknown>): Promise<any> {
  await request(t, 'tools/call', params).catch((err: Error) => {
    if (!err.message.includes("Unsupported result type 'task'")) throw err;
  });
  const answer = t.wire.at(-1);
  if (!answer?.result) throw new Error(`tools/call got ${JSON.stringify(answer)}`);
  return answer.result;
}

/** The last answer's result as sent, with its resultType (the SDK hands it back without). */
const lastResult = (t: Tasker): any => t.wire.at(-1)?.result;

/** tasks/get until the task is final; the final answer as sent. */
async function settled(t: Tasker, taskId: string): Promise<any> {
  await waitFor(async () => ['completed', 'failed', 'cancelled'].includes((await request(t, 'tasks/get', { taskId })).status), `task ${taskId} final`, 10_000);
  return lastResult(t);
}

/** The JSON-RPC error code a request was refused with. */
async function refusal(p: Promise<unknown>): Promise<{ code: number; data?: any }> {
  try {
    await p;
  } catch (err) {
    const e = err as { code?: number; data?: unknown };
    return { code: e.code ?? NaN, data: e.data };
  }
  throw new Error('the request was not refused');
}

beforeAll(async () => {
  idp = await startIdp([{ id: 'alice' }, { id: 'bob' }], AUDIENCE);
  const taskStore = new InMemoryTaskStore();
  const taskMessageQueue = new InMemoryTaskMessageQueue();
  backend = await serveMcp(() => {
    const mcp = new McpServer({ name: 'tasker', version: '1.0.0' }, { capabilities: { tasks: { requests: { tools: { call: {} } }, cancel: {}, list: {} } }, taskStore, taskMessageQueue });
    mcp.registerTool('greet', { description: 'Greets, at once.', inputSchema: { name: z.string() } }, async ({ name }) => ({ content: [{ type: 'text', text: `Hello, ${name}!` }] }));
    /** A task tool whose task ends with `status` and `result` after `ms` (its argument, or `fixedMs`). */
    const later = (status: 'completed' | 'failed', result: (ms: number) => Record<string, unknown>, fixedMs?: number) => ({
      async createTask(args: { ms?: number }, { taskStore: store, taskRequestedTtl }: any) {
        const ms = fixedMs ?? args.ms ?? 0;
        const task = await store.createTask({ ttl: taskRequestedTtl ?? 60_000, pollInterval: 50 });
        setTimeout(() => void store.storeTaskResult(task.taskId, status, result(ms)).catch(() => undefined), ms);
        return { task };
      },
      getTask: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTask(taskId),
      getTaskResult: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTaskResult(taskId),
    });
    const tasks = mcp.experimental.tasks;
    const waited = (ms: number) => ({ content: [{ type: 'text', text: `waited ${ms} ms` }] });
    tasks.registerToolTask('delay', { description: 'Waits, as a task when asked.', inputSchema: { ms: z.number() }, execution: { taskSupport: 'optional' } }, later('completed', waited) as never);
    // The 2025-11-25 way of a tool that reported an error: the task fails, its result says why.
    const diskFull = () => ({ content: [{ type: 'text', text: 'disk full' }], isError: true });
    // Asks its client inside the task (2025-11-25: the task turns input_required, the request goes out on tasks/result).
    tasks.registerToolTask('confirm', { description: 'Deletes a file once the user confirms.', inputSchema: { file: z.string() } }, {
      async createTask({ file }, { taskStore: store, taskRequestedTtl }) {
        const task = await store.createTask({ ttl: taskRequestedTtl ?? 60_000, pollInterval: 50 });
        void (async () => {
          await store.updateTaskStatus(task.taskId, 'input_required');
          const schema = { type: 'object' as const, properties: { confirm: { type: 'boolean' as const } }, required: ['confirm'] };
          const answer = await mcp.server.elicitInput({ message: `Delete ${file}?`, requestedSchema: schema }, { relatedTask: { taskId: task.taskId } });
          await store.updateTaskStatus(task.taskId, 'working');
          await store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: answer.content?.confirm === true ? `deleted ${file}` : `kept ${file}` }] });
        })().catch(() => undefined);
        return { task };
      },
      getTask: async (_args, { taskId, taskStore: store }) => store.getTask(taskId),
      getTaskResult: async (_args, { taskId, taskStore: store }) => store.getTaskResult(taskId) as never,
    });
    tasks.registerToolTask('fail', { description: 'Reports a tool error, only as a task.', inputSchema: {} }, later('failed', diskFull, 50) as never);
    return mcp;
  });
  gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, requiredScopes: ['tools:call'], scopesSupported: ['tools:call'], jwksCooldownMs: 0, jwksRefreshMs: 200 },
    backends: [{ name: 'tasker', kind: 'mcp', urls: [backend.url] }],
  });
  await waitFor(() => gw.core.catalog.current().tools.has('tasker_delay'), 'discovery', 10_000);
}, 30_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await gw?.stop();
  await backend?.close();
  await idp?.close();
});

describe('the tasks extension for stateless clients, bridged to 2025-11-25 tasks', () => {
  it('is announced in server/discover as an extension, never in the session era tasks slot', async () => {
    const token = await idp.token('alice', { scope: 'tools:call' });
    const res = await fetch(gw.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, authorization: `Bearer ${token}`, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'server/discover' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'server/discover', params: { _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } } }),
    });
    const { result } = (await res.json()) as any;
    expect(result.capabilities.extensions).toEqual({ [TASKS]: {} });
    expect(result.capabilities.tasks).toBeUndefined();
  });

  it('creates a task for a task tool, polls it to completion with the result inlined', async () => {
    const alice = await clientOf('alice');
    const created = await called(alice, { name: 'tasker_delay', arguments: { ms: 200 } });
    expect(created).toMatchObject({ resultType: 'task', status: 'working', ttlMs: 60_000, pollIntervalMs: 50 });
    expect(created.taskId).toMatch(/^tasker\//);
    expect(typeof created.createdAt).toBe('string');
    expect(['task', 'ttl', 'pollInterval', 'requestState'].filter((k) => k in created)).toEqual([]);
    const working = await request(alice, 'tasks/get', { taskId: created.taskId });
    expect(lastResult(alice)).toMatchObject({ resultType: 'complete', taskId: created.taskId });
    expect(working.status).toBe('working');
    expect(working.result).toBeUndefined();
    const done = await settled(alice, created.taskId);
    expect(done).toMatchObject({ resultType: 'complete', taskId: created.taskId, status: 'completed' });
    expect(done.result.content).toEqual([{ type: 'text', text: 'waited 200 ms' }]);
    expect(done.result._meta?.['io.modelcontextprotocol/related-task']).toBeUndefined();
  });

  it('reports a tool error as a completed task whose result is an error', async () => {
    const alice = await clientOf('alice');
    const created = await called(alice, { name: 'tasker_fail', arguments: {} });
    const done = await settled(alice, created.taskId);
    expect(done.status).toBe('completed');
    expect(done.result).toMatchObject({ isError: true, content: [{ type: 'text', text: 'disk full' }] });
  });

  it('cancels a running task with an empty acknowledgement, and acknowledges cancelling it again', async () => {
    const alice = await clientOf('alice');
    const created = await called(alice, { name: 'tasker_delay', arguments: { ms: 60_000 } });
    await request(alice, 'tasks/cancel', { taskId: created.taskId });
    const ack = lastResult(alice);
    expect(ack.resultType).toBe('complete');
    expect(['taskId', 'status', 'result', 'error'].filter((k) => k in ack)).toEqual([]);
    expect((await request(alice, 'tasks/get', { taskId: created.taskId })).status).toBe('cancelled');
    // The gateway asked the client nothing inside the task: an answer to no input request is acknowledged, as the extension says.
    await request(alice, 'tasks/update', { taskId: created.taskId, inputResponses: { unknown: { action: 'accept' } } });
    expect(lastResult(alice)).toEqual({ resultType: 'complete', _meta: expect.any(Object) });
    expect((await refusal(request(alice, 'tasks/update', { taskId: created.taskId, inputResponses: 'yes' }))).code).toBe(-32602);
    await request(alice, 'tasks/cancel', { taskId: created.taskId });
    expect(lastResult(alice).resultType).toBe('complete');
  });

  it('asks for input inside a task: the backend request shows as inputRequests on tasks/get, tasks/update answers it', async () => {
    const alice = await clientOf('alice', true, { elicitation: { form: {} } });
    const created = await called(alice, { name: 'tasker_confirm', arguments: { file: 'notes.txt' } });
    let asking: any;
    await waitFor(async () => (asking = await request(alice, 'tasks/get', { taskId: created.taskId })).status === 'input_required', 'the task asks', 10_000);
    const keys = Object.keys(asking.inputRequests);
    expect(keys).toHaveLength(1);
    expect(asking.inputRequests[keys[0]!]).toMatchObject({ method: 'elicitation/create', params: { message: 'Delete notes.txt?' } });
    expect('requestState' in lastResult(alice)).toBe(false);
    // Asked again, the same request: nothing new reached the backend.
    expect(Object.keys((await request(alice, 'tasks/get', { taskId: created.taskId })).inputRequests)).toEqual(keys);
    await request(alice, 'tasks/update', { taskId: created.taskId, inputResponses: { [keys[0]!]: { action: 'accept', content: { confirm: true } } } });
    expect(lastResult(alice)).toEqual({ resultType: 'complete', _meta: expect.any(Object) });
    const done = await settled(alice, created.taskId);
    expect(done.status).toBe('completed');
    expect(done.result.content).toEqual([{ type: 'text', text: 'deleted notes.txt' }]);
  });

  it('refuses another caller the task: its id is unknown to them', async () => {
    const alice = await clientOf('alice');
    const bob = await clientOf('bob');
    const created = await called(alice, { name: 'tasker_delay', arguments: { ms: 60_000 } });
    for (const method of ['tasks/get', 'tasks/cancel']) expect((await refusal(request(bob, method, { taskId: created.taskId }))).code, method).toBe(-32602);
    expect((await refusal(request(bob, 'tasks/update', { taskId: created.taskId, inputResponses: {} }))).code).toBe(-32602);
    // Bob's attempt to cancel it reached nothing: it is still running for Alice.
    expect((await request(alice, 'tasks/get', { taskId: created.taskId })).status).toBe('working');
    await request(alice, 'tasks/cancel', { taskId: created.taskId });
  });

  it('without the extension: tasks methods need it (-32021), an optional task tool runs at once, a task-only tool is refused', async () => {
    const plain = await clientOf('alice', false);
    const gated = await refusal(request(plain, 'tasks/get', { taskId: 'tasker/anything' }));
    expect(gated.code).toBe(-32021);
    const sync = await called(plain, { name: 'tasker_delay', arguments: { ms: 10 } });
    expect(sync.resultType).toBe('complete');
    expect(sync.taskId).toBeUndefined();
    expect(sync.content).toEqual([{ type: 'text', text: 'waited 10 ms' }]);
    const required = await refusal(request(plain, 'tools/call', { name: 'tasker_fail', arguments: {} }));
    expect(required.code).toBe(-32021);
    expect(plain.wire.at(-1).error.data.requiredCapabilities).toEqual({ extensions: { [TASKS]: {} } });
  });

  it('never makes a task of a call to a tool without task support, even when the client sends the old task hint', async () => {
    const alice = await clientOf('alice');
    const result = await called(alice, { name: 'tasker_greet', arguments: { name: 'Ada' }, task: { ttl: 60_000 } });
    expect(result.resultType).toBe('complete');
    expect(result.taskId).toBeUndefined();
    expect(result.content).toEqual([{ type: 'text', text: 'Hello, Ada!' }]);
  });
});
