/**
 * 2025-11-25 tasks through the real Envoy topology: envoy/envoy.yaml in front of the gateway
 * process (ext_proc, broker, xDS) and an SDK 1.x backend with task tools
 * (test/conformance/task-backend.ts). Every `tasks/*` request is one Envoy may not route straight
 * to a backend (src/mcp/methods.ts): ext_proc admits it and the broker answers, so `tasks/list`
 * shows the official SDK client, through Envoy, the tasks its session created and no other's.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { CreateTaskResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { McpHttpServer } from '../../examples/backends/mcp-http.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { startTaskConformanceBackend } from '../conformance/task-backend.js';
import { startTopologyEnvoy, type TopologyEnvoy } from '../harness/topology-envoy.js';
import { connectClient } from '../support/client.js';
import { startExtProc } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

let backend: McpHttpServer;
let gw: RunningExtProc;
let topology: TopologyEnvoy;
const clients: Client[] = [];

beforeAll(async () => {
  backend = await startTaskConformanceBackend();
  gw = await startExtProc({ backends: [{ name: 'jobs', kind: 'mcp', urls: [backend.url] }] });
  topology = await startTopologyEnvoy(gw);
  await waitFor(() => gw.core.catalog.current().tools.has('jobs_slow_compute'), 'the task tools discovered', 15_000);
}, 60_000);

afterAll(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await topology?.envoy.stop();
  await gw?.stop();
  await backend?.close();
});

async function client(): Promise<Client> {
  const { client: c } = await connectClient(topology.endpoint, 'envoy-lister');
  clients.push(c);
  return c;
}

const createTask = async (c: Client, seconds: number): Promise<string> =>
  (await c.request({ method: 'tools/call', params: { name: 'jobs_slow_compute', arguments: { seconds }, task: { ttl: 120_000 } } }, CreateTaskResultSchema)).task.taskId;

describe('tasks/list through the Envoy topology', () => {
  it("lists the session's tasks with their status, and none to another session", async () => {
    const owner = await client();
    expect(owner.getServerCapabilities()?.tasks).toMatchObject({ list: {} });
    const running = await createTask(owner, 600);
    const cancelled = await createTask(owner, 600);
    await owner.experimental.tasks.cancelTask(cancelled);
    const { tasks } = await owner.experimental.tasks.listTasks();
    expect(Object.fromEntries(tasks.map((t) => [t.taskId, t.status]))).toEqual({ [running]: 'working', [cancelled]: 'cancelled' });

    const other = await client();
    expect((await other.experimental.tasks.listTasks()).tasks).toEqual([]);
  });
});
