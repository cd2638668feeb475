/**
 * The fixtures the conformance suite's tasks-extension scenarios (`tasks-*`) call, served the
 * session era's way: an SDK 1.x server with a task store (2025-11-25 tasks), which the gateway
 * bridges to the extension for stateless clients. Each fixture is what the scenarios' descriptions
 * ask for: `greet` runs at once; `slow_compute` takes tasks and sleeps `seconds` (cancellable);
 * `failing_job` runs only as a task and reports a tool error; `protocol_error_job` fails as a task,
 * which a 2025-11-25 backend can tell only through a result (the SDK stores results, not errors);
 * `confirm_delete` and `multi_input` ask for input inside their task (one elicitation, two at once),
 * which 2025-11-25 delivers on the stream of the client's `tasks/result`.
 *
 * The one MaxListenersExceededWarning (abort listeners on an AbortSignal) a run of these scenarios
 * prints comes from the SDK 1.x in this backend, not the gateway: while its `tasks/result` blocks,
 * `Server._waitForTaskUpdate` adds an abort listener to that request's signal every poll interval
 * (200 ms here) and never removes it, so the gateway's held `tasks/result` (how 2025-11-25 tasks
 * ask for input) passes ten after about 2 s. They go with the request.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { InMemoryTaskMessageQueue, InMemoryTaskStore } from '@modelcontextprotocol/sdk/experimental/tasks';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';

type Outcome = { status: 'completed' | 'failed'; result: { content: Array<{ type: 'text'; text: string }>; isError?: boolean } };

/** A task tool's handler: the task ends after `ms` with the outcome `finish` gives for the arguments. */
function finishing(ms: (args: Record<string, unknown>) => number, finish: (args: Record<string, unknown>) => Outcome) {
  return {
    async createTask(args: Record<string, unknown>, { taskStore, taskRequestedTtl }: any) {
      const task = await taskStore.createTask({ ttl: taskRequestedTtl ?? 120_000, pollInterval: 200 });
      const { status, result } = finish(args);
      // A cancelled task refuses its result: it stays cancelled, as the scenarios ask.
      setTimeout(() => void taskStore.storeTaskResult(task.taskId, status, result).catch(() => undefined), ms(args));
      return { task };
    },
    getTask: async (_args: unknown, { taskId, taskStore }: any) => taskStore.getTask(taskId),
    getTaskResult: async (_args: unknown, { taskId, taskStore }: any) => taskStore.getTaskResult(taskId),
  };
}

const text = (t: string) => [{ type: 'text' as const, text: t }];

/** Start the backend on a free loopback port (one task store for all its sessions). */
export function startTaskConformanceBackend(): Promise<McpHttpServer> {
  const taskStore = new InMemoryTaskStore();
  const taskMessageQueue = new InMemoryTaskMessageQueue();
  return serveMcp(() => {
    const mcp = new McpServer({ name: 'task-conformance', version: '1.0.0' }, { capabilities: { tasks: { requests: { tools: { call: {} } }, cancel: {}, list: {} } }, taskStore, taskMessageQueue });
    /** A task tool that asks `questions` (elicitations) at once inside its task, then completes with the answers. */
    const asking = (questions: (args: Record<string, unknown>) => string[]) => ({
      async createTask(args: Record<string, unknown>, { taskStore: store, taskRequestedTtl }: any) {
        const task = await store.createTask({ ttl: taskRequestedTtl ?? 120_000, pollInterval: 200 });
        const schema = { type: 'object' as const, properties: { confirm: { type: 'boolean' as const }, name: { type: 'string' as const } } };
        void (async () => {
          await store.updateTaskStatus(task.taskId, 'input_required');
          const answers = await Promise.all(questions(args).map((message) => mcp.server.elicitInput({ message, requestedSchema: schema }, { relatedTask: { taskId: task.taskId } })));
          await store.updateTaskStatus(task.taskId, 'working');
          await store.storeTaskResult(task.taskId, 'completed', { content: text(answers.map((a) => `${a.action}: ${JSON.stringify(a.content ?? {})}`).join('; ')) });
        })().catch(() => undefined);
        return { task };
      },
      getTask: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTask(taskId),
      getTaskResult: async (_args: unknown, { taskId, taskStore: store }: any) => store.getTaskResult(taskId),
    });
    mcp.registerTool('greet', { description: 'Greets at once.', inputSchema: { name: z.string() } }, async ({ name }) => ({ content: text(`Hello, ${name}!`) }));
    const tasks = mcp.experimental.tasks;
    tasks.registerToolTask(
      'slow_compute',
      { description: 'Sleeps `seconds`, then answers.', inputSchema: { seconds: z.number(), label: z.string().optional() }, execution: { taskSupport: 'optional' } },
      finishing(
        (a) => Number(a.seconds) * 1000,
        (a) => ({ status: 'completed', result: { content: text(`computed ${String(a.label ?? '')} after ${String(a.seconds)}s`) } }),
      ) as never,
    );
    tasks.registerToolTask(
      'failing_job',
      { description: 'Reports a tool error, only as a task.', inputSchema: {}, execution: { taskSupport: 'required' } },
      finishing(() => 1000, () => ({ status: 'failed', result: { content: text('the job failed'), isError: true } })) as never,
    );
    tasks.registerToolTask(
      'protocol_error_job',
      { description: 'Fails as a task.', inputSchema: {}, execution: { taskSupport: 'optional' } },
      finishing(() => 100, () => ({ status: 'failed', result: { content: text('internal failure'), isError: true } })) as never,
    );
    tasks.registerToolTask(
      'confirm_delete',
      { description: 'Deletes a file once confirmed.', inputSchema: { filename: z.string() }, execution: { taskSupport: 'optional' } },
      asking((a) => [`Delete ${String(a.filename)}?`]) as never,
    );
    tasks.registerToolTask(
      'multi_input',
      { description: 'Asks two things at once.', inputSchema: {}, execution: { taskSupport: 'optional' } },
      asking(() => ['First name?', 'Confirm?']) as never,
    );
    return mcp;
  });
}
