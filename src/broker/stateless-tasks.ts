/**
 * The tasks extension (`io.modelcontextprotocol/tasks`) for stateless clients, answered from a
 * session-era backend's 2025-11-25 tasks in the caller's held backend session: `tasks/get` is the
 * backend's `tasks/get` with, once the task is final, its `tasks/result` inlined; `tasks/cancel` is
 * the backend's, acknowledged also for a task that had already ended (the extension makes it
 * idempotent). Admission has already bound the task to the caller (an id its held record did not
 * create is unknown) and put it in the backend's id.
 *
 * Input inside a task: a 2025-11-25 backend that needs the client sets its task `input_required`
 * and sends its requests on the stream of the client's `tasks/result`. The first `tasks/get` that
 * sees that status calls `tasks/result` and holds it like an MRTR call (src/broker/held-calls.ts):
 * the backend's request becomes the task's `inputRequests`; `tasks/update` delivers the answers and
 * reads the held call on in the background, to the next request or to the end of the task. What is
 * being asked lives on this instance only.
 */
import type { Decision } from '../admission/decision.js';
import { upstreamFailure } from '../errors.js';
import { RESULT_COMPLETE, RESULT_INPUT_REQUIRED } from '../mcp/era.js';
import { isObject, isResponse, success, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { statelessResponse, type ServerInfo } from '../mcp/stateless-results.js';
import { detailedTask, isTerminal } from '../mcp/tasks-extension.js';
import type { HeldCalls, StatelessRound } from './held-calls.js';
import { responseOf, type Reply } from './reply.js';

type Forward = Extract<Decision, { kind: 'forward' }>;

export interface StatelessTasksOptions {
  /** Runs a routed request in its held session: the broker's own `forward`. */
  readonly forward: (d: Forward) => Reply;
  readonly held: HeldCalls;
  readonly serverInfo: ServerInfo;
}

/** What a task asks its client now: the open input requests, and the sealed state of the held `tasks/result`. */
interface Asked {
  readonly inputRequests: Readonly<Record<string, unknown>>;
  readonly state: string;
  readonly until: number;
}

const TASK_RESULT = 'tasks/result';

export class StatelessTasks {
  /** By held record and task id. */
  private readonly asked = new Map<string, Asked>();

  constructor(private readonly opts: StatelessTasksOptions) {}

  /** The answer to a stateless client's `tasks/get`, `tasks/cancel` or `tasks/update`. */
  async answer(d: Forward): Promise<Reply> {
    switch (d.message.method) {
      case 'tasks/get':
        return this.reply(await this.get(d));
      case 'tasks/cancel':
        return this.reply(await this.cancel(d));
      default:
        await this.update(d, d.taskAnswers ?? {});
        return this.reply(success(d.message.id, { resultType: RESULT_COMPLETE }));
    }
  }

  /** The task's status, with what it asks while it waits for input, or its outcome once it is final. */
  private async get(d: Forward): Promise<JsonRpcResponse> {
    const got = await this.ask(d, 'tasks/get');
    if (!('result' in got)) return got;
    const task = got.result;
    if (task.status === 'input_required') {
      const inputRequests = (this.current(d) ?? (await this.startAsking(d)))?.inputRequests;
      // Answered, and the backend has not asked again (yet): the task works on.
      if (!inputRequests || Object.keys(inputRequests).length === 0) return success(got.id, detailedTask({ ...task, status: 'working' }));
      return success(got.id, { ...detailedTask(task), inputRequests });
    }
    if (task.status !== 'completed' && task.status !== 'failed') return success(got.id, detailedTask(task));
    const outcome = await this.ask(d, TASK_RESULT);
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

  /**
   * Deliver the answers to what the task asks; answers to anything else are ignored, as the
   * extension asks. The held call is read on in the background: the update is acknowledged at once.
   */
  private async update(d: Forward, answers: Record<string, unknown>): Promise<void> {
    const key = keyOf(d);
    const asked = this.current(d);
    if (!asked || !Object.keys(answers).some((k) => k in asked.inputRequests)) return;
    const opened = this.opts.held.open(asked.state, { principal: d.caller.principal, method: TASK_RESULT, name: d.target.name });
    // A task's state is always a held round (the gateway sealed it for tasks/result), never a passed one.
    if (!opened.ok || opened.round.kind === 'passed') return void this.asked.delete(key);
    const round = opened.round;
    // Asked no more: a tasks/get from now on sees the task working until the backend asks again.
    this.asked.set(key, { ...asked, inputRequests: {} });
    const abort = new AbortController();
    void this.follow(key, this.opts.held.resume(this.round(d), round, answers, abort.signal)).catch(() => this.asked.delete(key));
  }

  /** Call the backend's `tasks/result`, held: its first request to the client is what the task asks. */
  private async startAsking(d: Forward): Promise<Asked | undefined> {
    const reply = this.opts.forward(this.about(d, TASK_RESULT));
    if (reply.kind !== 'messages') return undefined;
    try {
      return await this.follow(keyOf(d), this.opts.held.first(this.round(d), reply.messages, reply.abort));
    } finally {
      reply.finish();
    }
  }

  /** Read a held `tasks/result` to its answer: a new question is remembered, anything else ends the asking. */
  private async follow(key: string, messages: AsyncGenerator<JsonRpcMessage>): Promise<Asked | undefined> {
    for await (const m of messages) {
      if (!isResponse(m)) continue;
      if ('result' in m && m.result.resultType === RESULT_INPUT_REQUIRED && isObject(m.result.inputRequests) && typeof m.result.requestState === 'string') {
        const asked: Asked = { inputRequests: m.result.inputRequests, state: m.result.requestState, until: Date.now() + this.opts.held.stateTtlMs };
        this.prune();
        this.asked.set(key, asked);
        return asked;
      }
      break;
    }
    this.asked.delete(key);
    return undefined;
  }

  /** What the task asks now, if this instance asked it and the state is still good. */
  private current(d: Forward): Asked | undefined {
    const asked = this.asked.get(keyOf(d));
    return asked && asked.until > Date.now() ? asked : undefined;
  }

  private prune(): void {
    const now = Date.now();
    for (const [key, asked] of this.asked) if (asked.until <= now) this.asked.delete(key);
  }

  /** The held `tasks/result` as an MRTR round: the task id is the name its state is bound to. */
  private round(d: Forward): StatelessRound {
    return { session: d.session, request: { ...d.message, method: TASK_RESULT }, caller: d.caller, name: d.target.name };
  }

  /** The routed request for `method` about the task, in the backend's id. */
  private about(d: Forward, method: string): Forward {
    return { ...d, message: { ...d.message, method }, target: { ...d.target, params: { taskId: d.target.params.taskId } } };
  }

  /** One request about the task to its backend, in the caller's held backend session. */
  private async ask(d: Forward, method: string): Promise<JsonRpcResponse> {
    const response = await responseOf(this.opts.forward(this.about(d, method)));
    return response ?? upstreamFailure('GW_UPSTREAM_PROTOCOL', d.message.id, `the backend gave no answer to ${method}`);
  }

  private reply(response: JsonRpcResponse): Reply {
    return { kind: 'json', status: 200, body: JSON.stringify(statelessResponse(response, this.opts.serverInfo)) };
  }
}

const keyOf = (d: Forward): string => `${d.session.id}\u0000${d.target.name}`;
