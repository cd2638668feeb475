/**
 * The tasks extension (`io.modelcontextprotocol/tasks`) for stateless clients, answered from a
 * session-era backend's 2025-11-25 tasks in the caller's held backend session: `tasks/get` is the
 * backend's `tasks/get` with, once the task is final, its `tasks/result` inlined; `tasks/cancel` is
 * the backend's, acknowledged also for a task that had already ended (the extension makes it
 * idempotent); `tasks/update` is acknowledged. Admission has already bound the task to the caller
 * (an id its held record did not create is unknown) and put it in the backend's id.
 */
import type { Decision } from '../admission/decision.js';
import { RESULT_COMPLETE } from '../mcp/era.js';
import { upstreamFailure } from '../errors.js';
import { success, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { statelessResponse, type ServerInfo } from '../mcp/stateless-results.js';
import { detailedTask, isTerminal } from '../mcp/tasks-extension.js';
import { responseOf, type Reply } from './reply.js';

type Forward = Extract<Decision, { kind: 'forward' }>;

export interface StatelessTasksOptions {
  /** Runs a routed request in its held session: the broker's own `forward`. */
  readonly forward: (d: Forward) => Reply;
  readonly serverInfo: ServerInfo;
}

export class StatelessTasks {
  constructor(private readonly opts: StatelessTasksOptions) {}

  /** The answer to a stateless client's `tasks/get`, `tasks/cancel` or `tasks/update`. */
  async answer(d: Forward): Promise<Reply> {
    const id = d.message.id;
    switch (d.message.method) {
      case 'tasks/get':
        return this.reply(await this.get(d));
      case 'tasks/cancel':
        return this.reply(await this.cancel(d));
      default:
        // tasks/update (its answers checked by admission). The gateway has asked the client nothing
        // inside a task (docs/protocol-eras.md): every answer is to an input request it does not
        // know, which the extension says to ignore.
        return this.reply(success(id, { resultType: RESULT_COMPLETE }));
    }
  }

  /** The task's status, with its outcome inlined once it is final. */
  private async get(d: Forward): Promise<JsonRpcResponse> {
    const got = await this.ask(d, 'tasks/get');
    if (!('result' in got)) return got;
    const task = got.result;
    if (task.status !== 'completed' && task.status !== 'failed') return success(got.id, detailedTask(task));
    const outcome = await this.ask(d, 'tasks/result');
    return success(got.id, detailedTask(task, 'result' in outcome ? { result: outcome.result } : { error: outcome.error }));
  }

  /** An empty acknowledgement; cancelling a task that already ended is acknowledged too (a backend refuses it). */
  private async cancel(d: Forward): Promise<JsonRpcResponse> {
    const ack = success(d.message.id, { resultType: RESULT_COMPLETE });
    const cancelled = await this.ask(d, 'tasks/cancel');
    if ('result' in cancelled) return ack;
    const got = await this.ask(d, 'tasks/get');
    return 'result' in got && isTerminal(got.result.status) ? ack : cancelled;
  }

  /** One request about the task to its backend, in the caller's held backend session. */
  private async ask(d: Forward, method: string): Promise<JsonRpcResponse> {
    const response = await responseOf(this.opts.forward({ ...d, message: { ...d.message, method }, target: { ...d.target, params: { taskId: d.target.params.taskId } } }));
    return response ?? upstreamFailure('GW_UPSTREAM_PROTOCOL', d.message.id, `the backend gave no answer to ${method}`);
  }

  private reply(response: JsonRpcResponse): Reply {
    return { kind: 'json', status: 200, body: JSON.stringify(statelessResponse(response, this.opts.serverInfo)) };
  }
}
