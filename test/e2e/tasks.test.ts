/**
 * Tasks (2025-11-25, experimental) through the gateway: a real SDK server with a task store
 * behind, raw JSON-RPC in front. A task-augmented tools/call creates a task whose id the gateway
 * namespaces per backend; tasks/get, tasks/result and tasks/cancel reach the backend that runs it,
 * and only from the session whose call created it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { MCP_HEADERS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

let backend: McpHttpServer;
let gw: TestGateway;

/** The first JSON-RPC answer in a reply, JSON or SSE. */
async function answerOf(res: Response): Promise<any> {
  const text = await res.text();
  if (text.trimStart().startsWith('{')) return JSON.parse(text);
  const data = text.split('\n').filter((l) => l.startsWith('data:')).map((l) => JSON.parse(l.slice(5)));
  return data.find((m) => 'result' in m || 'error' in m);
}

async function session(): Promise<string> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'tasker', version: '1' } } }),
  });
  const body = (await res.json()) as any;
  expect(body.result.capabilities.tasks).toEqual({ list: {}, cancel: {}, requests: { tools: { call: {} } } });
  return res.headers.get('mcp-session-id')!;
}

const rpc = async (sid: string, method: string, params: Record<string, unknown>, id: number | string = 1) => answerOf(await rawPost(gw.url, sid, { jsonrpc: '2.0', id, method, params }));

beforeAll(async () => {
  const taskStore = new InMemoryTaskStore();
  backend = await serveMcp(() => {
    const mcp = new McpServer({ name: 'tasker', version: '1.0.0' }, { capabilities: { tasks: { requests: { tools: { call: {} } }, cancel: {} } }, taskStore });
    mcp.experimental.tasks.registerToolTask(
      'delay',
      { description: 'Waits, as a task.', inputSchema: { ms: z.number() } },
      {
        async createTask({ ms }, { taskStore: store, taskRequestedTtl }) {
          const task = await store.createTask({ ttl: taskRequestedTtl });
          setTimeout(() => void store.storeTaskResult(task.taskId, 'completed', { content: [{ type: 'text', text: `waited ${ms} ms` }] }).catch(() => undefined), ms);
          return { task };
        },
        getTask: async (_args, { taskId, taskStore: store }) => store.getTask(taskId),
        getTaskResult: async (_args, { taskId, taskStore: store }) => store.getTaskResult(taskId) as never,
      },
    );
    return mcp;
  });
  gw = await startGateway({ backends: [{ name: 'tasker', kind: 'mcp', urls: [backend.url] }] });
  await waitFor(() => gw.core.catalog.current().tools.has('tasker_delay'), 'discovery', 10_000);
});

afterAll(async () => {
  await gw?.stop();
  await backend?.close();
});

describe('tasks', () => {
  it('a task-augmented call creates a task whose id names its backend; get and result reach it', async () => {
    const sid = await session();
    const created = await rpc(sid, 'tools/call', { name: 'tasker_delay', arguments: { ms: 100 }, task: { ttl: 60_000 } });
    const taskId: string = created.result.task.taskId;
    expect(taskId).toMatch(/^tasker\//);
    const got = await rpc(sid, 'tasks/get', { taskId });
    expect(got.result.taskId).toBe(taskId);
    expect(['working', 'completed']).toContain(got.result.status);
    const result = await rpc(sid, 'tasks/result', { taskId });
    expect(result.result.content[0].text).toBe('waited 100 ms');
    await waitFor(async () => (await rpc(sid, 'tasks/get', { taskId })).result.status === 'completed', 'the task completed', 5_000);
  });

  it('only the session whose call created a task reaches it', async () => {
    const owner = await session();
    const other = await session();
    const created = await rpc(owner, 'tools/call', { name: 'tasker_delay', arguments: { ms: 50 }, task: { ttl: 60_000 } });
    const taskId: string = created.result.task.taskId;
    const denied = await rpc(other, 'tasks/get', { taskId }, 'x');
    expect(denied).toMatchObject({ id: 'x', error: { code: -32602 } });
    expect((await rpc(owner, 'tasks/get', { taskId: 'tasker/made-up' })).error.code).toBe(-32602);
  });

  it('tasks/cancel reaches the backend and the task ends cancelled', async () => {
    const sid = await session();
    const created = await rpc(sid, 'tools/call', { name: 'tasker_delay', arguments: { ms: 10_000 }, task: { ttl: 60_000 } });
    const taskId: string = created.result.task.taskId;
    const cancelled = await rpc(sid, 'tasks/cancel', { taskId });
    expect(cancelled.result).toMatchObject({ taskId, status: 'cancelled' });
  });
});
