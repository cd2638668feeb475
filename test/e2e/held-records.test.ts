/**
 * Gateway-held records (src/session/held.ts) under callers that share them: the stateless clients
 * of one caller (agents that all number their requests from 1), and clients that send capability
 * objects full of keys nobody reads. The backend is a real SDK 1.x server, reached through the
 * held record's backend session; the client is raw 2026-07-28 requests.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { MCP_HEADERS, startGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const V = '2026-07-28';
const META = (caps: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': caps,
  'io.modelcontextprotocol/clientInfo': { name: 'agent', version: '1' },
});

/** Calls of `hold` the backend has started (each runs until it is cancelled). */
let started = 0;

function holder(): McpServer {
  const mcp = new McpServer({ name: 'holder', version: '1.0.0' });
  mcp.registerTool('hold', { description: 'Runs until cancelled.' }, async (extra) => {
    started++;
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    return { content: [{ type: 'text', text: 'released' }] };
  });
  mcp.registerTool('ping', { description: 'Answers pong.' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
  return mcp;
}

/** A backend whose tools run as 2025-11-25 tasks: `delay` when asked, `only_task` always. */
function tasker(taskStore: InMemoryTaskStore, taskMessageQueue: InMemoryTaskMessageQueue): McpServer {
  const mcp = new McpServer({ name: 'tasker', version: '1.0.0' }, { capabilities: { tasks: { requests: { tools: { call: {} } }, cancel: {}, list: {} } }, taskStore, taskMessageQueue });
  const done = {
    async createTask(_args: unknown, { taskStore: store, taskRequestedTtl }: any) {
      const task = await store.createTask({ ttl: taskRequestedTtl ?? 60_000, pollInterval: 50 });
      await store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: 'done' }] });
      return { task };
    },
    getTask: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTask(taskId),
    getTaskResult: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTaskResult(taskId),
  };
  mcp.experimental.tasks.registerToolTask('delay', { description: 'Runs as a task when asked.', inputSchema: { ms: z.number().optional() }, execution: { taskSupport: 'optional' } }, done as never);
  mcp.experimental.tasks.registerToolTask('only_task', { description: 'Runs only as a task.', inputSchema: {}, execution: { taskSupport: 'required' } }, done as never);
  return mcp;
}

let backend: McpHttpServer;
let tasks: McpHttpServer;
let dir: string;

beforeAll(async () => {
  backend = await serveMcp(holder);
  const store = new InMemoryTaskStore();
  const queue = new InMemoryTaskMessageQueue();
  tasks = await serveMcp(() => tasker(store, queue));
  dir = await mkdtemp(join(tmpdir(), 'gw-held-'));
});

afterAll(async () => {
  await tasks?.close();
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** POST one raw stateless request: its HTTP status and answer once it ends. */
async function send(url: string, method: string, params: Record<string, unknown>, id: number | string = 1, caps: Record<string, unknown> = {}, signal?: AbortSignal): Promise<{ status: number; body: any }> {
  const headers: Record<string, string> = { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': method };
  if (typeof params.name === 'string') headers['mcp-name'] = params.name;
  if (typeof params.taskId === 'string') headers['mcp-name'] = params.taskId;
  const res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META(caps) } }), ...(signal ? { signal } : {}) });
  const text = await res.text();
  return { status: res.status, body: text.startsWith('{') ? JSON.parse(text) : JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6)) };
}

/** The answer alone. */
const post = async (...args: Parameters<typeof send>): Promise<any> => (await send(...args)).body;

describe('a caller whose declared capabilities vary only in keys nobody reads', () => {
  it('is held in one record, not one per request', async () => {
    const gw = await startGateway({ backends: [{ name: 'holder', kind: 'mcp', urls: [backend.url], prefix: '' }] });
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('ping'), 'the holder tools discovered');
      const before = await gw.core.sessions.size();
      for (let i = 0; i < 50; i++) {
        const r = await post(gw.url, 'tools/list', {}, i, { sampling: { junk: i }, elicitation: { form: {}, junk: i } });
        expect(r.result.tools.map((t: { name: string }) => t.name)).toContain('ping');
      }
      expect(await gw.core.sessions.size()).toBe(before + 1);
      // The record's backend session still tells the backend what the client can take.
      const answer = await post(gw.url, 'tools/call', { name: 'ping', arguments: {} }, 99, { sampling: { junk: 'x' } });
      expect(answer.result.content[0].text).toBe('pong');
      expect(await gw.core.sessions.size()).toBe(before + 2);
    } finally {
      await gw.stop();
    }
  });
});

describe('two stateless clients of one caller that use the same request id', () => {
  it('are both cut, and both audited as cut, when the gateway stops after its grace period', async () => {
    const auditFile = join(dir, 'cut.jsonl');
    const gw = await startGateway({ backends: [{ name: 'holder', kind: 'mcp', urls: [backend.url], prefix: '' }], audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 } });
    const client = new AbortController();
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('hold'), 'the holder tools discovered');
      const before = started;
      const answers = [1, 2].map(() => post(gw.url, 'tools/call', { name: 'hold', arguments: {} }, 1, {}, client.signal).catch((err: Error) => ({ failed: err.message })));
      await waitFor(() => started === before + 2, 'both calls reached the backend');
      await gw.stop(100);
      const events = (await readFile(auditFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === 'mcp.tool_call').map((e) => [e.tool, e.outcome])).toEqual([
        ['hold', 'cut'],
        ['hold', 'cut'],
      ]);
      client.abort();
      await Promise.all(answers);
    } finally {
      client.abort();
      await gw.stop().catch(() => undefined);
    }
  });
});

describe('anonymous stateless clients (no auth), who all share one held record', () => {
  const TASKS = { extensions: { 'io.modelcontextprotocol/tasks': {} } };

  it('get no tasks: a tool that may run as one runs as an ordinary call, the rest is refused with GW_TASKS_ANONYMOUS', async () => {
    const gw = await startGateway({ backends: [{ name: 'tasker', kind: 'mcp', urls: [tasks.url], prefix: '' }] });
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('only_task'), 'the tasker tools discovered');
      const ordinary = await send(gw.url, 'tools/call', { name: 'delay', arguments: {} }, 1, TASKS);
      expect(ordinary.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'done' }] });
      const onlyTask = await send(gw.url, 'tools/call', { name: 'only_task', arguments: {} }, 2, TASKS);
      expect(onlyTask.status).toBe(403);
      expect(onlyTask.body.error.data.code).toBe('GW_TASKS_ANONYMOUS');
      // Another anonymous client cannot reach into the shared record's task list, whatever id it tries.
      for (const method of ['tasks/get', 'tasks/cancel']) {
        const r = await send(gw.url, method, { taskId: 'any-task' }, 3, TASKS);
        expect(r.status).toBe(403);
        expect(r.body.error).toMatchObject({ code: -32000, data: { code: 'GW_TASKS_ANONYMOUS' } });
      }
    } finally {
      await gw.stop();
    }
  });

  it('get tasks when the operator allows it (stateless.anonymousTasks)', async () => {
    const gw = await startGateway({ stateless: { anonymousTasks: true }, backends: [{ name: 'tasker', kind: 'mcp', urls: [tasks.url], prefix: '' }] });
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('only_task'), 'the tasker tools discovered');
      const created = await send(gw.url, 'tools/call', { name: 'only_task', arguments: {} }, 1, TASKS);
      expect(created.status).toBe(200);
      expect(created.body.result).toMatchObject({ resultType: 'task' });
    } finally {
      await gw.stop();
    }
  });
});
