/**
 * What the broker answers stateless (2026-07-28) clients that session clients never get:
 * `server/discover`, results in the stateless shape (resultType, serverInfo, cache hints), calls
 * whose backend asks the client something held for its input (src/broker/held-calls.ts), and
 * `subscriptions/listen` streams (src/broker/listen.ts).
 */
import type { Decision } from '../admission/decision.js';
import { ALL_SUPPORTED_VERSIONS } from '../admission/stateless.js';
import type { Catalog } from '../catalog/catalog.js';
import type { JsonRpcNotification, JsonRpcResponse } from '../mcp/jsonrpc.js';
import type { ListenFilter } from '../mcp/listen-filter.js';
import { describeMethod, serverCapabilities } from '../mcp/methods.js';
import { statelessResponse, statelessResult, statelessResultJson, type CacheHint, type ServerInfo } from '../mcp/stateless-results.js';
import type { HeldCalls, StatelessRound } from './held-calls.js';
import { retryParams, type PassedCalls } from './passed-calls.js';
import type { BackendDescriptor } from '../catalog/model.js';
import { wireError } from '../errors.js';
import { Listeners } from './listen.js';
import type { ListenFanout } from './listen-fanout.js';
import { responseOf, type Reply } from './reply.js';
import { StatelessTasks } from './stateless-tasks.js';

type Forward = Extract<Decision, { kind: 'forward' }>;

/**
 * When the request's backend speaks the stateless era: that backend, and how to send the request
 * on to it as it is, with `extra` params (a retry's `inputResponses` and the backend's unsealed
 * `requestState`); undefined otherwise.
 */
export type PassOn = (extra: Record<string, unknown>) => { readonly backend: BackendDescriptor; readonly start: () => Reply } | undefined;

export interface StatelessRepliesOptions {
  readonly serverInfo: ServerInfo;
  readonly cache: CacheHint;
  readonly held: HeldCalls;
  readonly passed: PassedCalls;
  readonly instructions?: string;
  readonly catalog: Catalog;
  /** Runs a routed request in its (held) session: the broker's own `forward`. */
  readonly forward: (d: Forward) => Reply;
  /** Carries resource updates to listen streams on other gateway instances; absent: this process's streams only. */
  readonly fanout?: ListenFanout;
}

export class StatelessReplies {
  private readonly listeners: Listeners;
  private readonly tasks: StatelessTasks;

  constructor(private readonly opts: StatelessRepliesOptions) {
    this.listeners = new Listeners(opts.catalog);
    opts.fanout?.onUpdate((held, message) => this.listeners.resourceUpdated(held, message));
    this.tasks = new StatelessTasks({ forward: opts.forward, held: opts.held, serverInfo: opts.serverInfo });
  }

  /** `server/discover` (with a virtual server's instructions when it has them): every revision the gateway speaks, what it serves to stateless clients, and how long that holds. */
  discover(endpointInstructions?: string): Record<string, unknown> {
    const instructions = endpointInstructions ?? this.opts.instructions;
    const result = {
      supportedVersions: ALL_SUPPORTED_VERSIONS,
      capabilities: serverCapabilities('stateless'),
      ...(instructions ? { instructions } : {}),
    };
    return statelessResult(result, this.opts.serverInfo, this.opts.cache);
  }

  /** A listing page (already serialised) in the stateless shape. */
  listPage(resultJson: Buffer): Buffer[] {
    return statelessResultJson(resultJson, this.opts.serverInfo, this.opts.cache);
  }

  /**
   * A call or routed request: passed on as it is when its backend speaks the stateless era
   * (`pass` gives the reply then; src/broker/passed-calls.ts), else its answer shaped for the
   * stateless era, and a backend's request to the client turned into `input_required` while the
   * call is held; a retry with `requestState` continues the held call instead of starting one
   * (`start` is not called then). A request about a task (the tasks extension) is answered from
   * the backend's 2025-11-25 task requests.
   */
  call(d: Extract<Decision, { kind: 'call-tool' | 'forward' }>, start: () => Reply, pass: PassOn): Reply | Promise<Reply> {
    if (d.kind === 'forward' && d.target.kind === 'task') return this.tasks.answer(d);
    const { held } = this.opts;
    const round: StatelessRound = {
      session: d.session,
      request: d.message,
      caller: d.caller,
      name: d.kind === 'call-tool' ? d.tool.name : d.target.name,
      ...(describeMethod(d.message.method)?.cacheable ? { cache: this.opts.cache } : {}),
    };
    const resumed = d.resume?.round;
    if (resumed && resumed.kind !== 'passed') {
      const abort = new AbortController();
      return { kind: 'messages', session: d.session, messages: held.resume(round, resumed, d.resume?.answers, abort.signal), abort, finish: () => {} };
    }
    const passed = pass(retryParams(d.resume?.answers, resumed));
    if (passed && (!resumed || resumed.backend === passed.backend.name)) {
      const reply = passed.start();
      if (reply.kind === 'json') return { ...reply, body: this.shapedBody(reply) };
      if (reply.kind !== 'messages') return reply;
      const asker = { session: d.session, backend: passed.backend, caller: d.caller, sourceIp: d.sourceIp, ...(d.kind === 'call-tool' ? { tool: d.tool } : {}) };
      return { ...reply, messages: this.opts.passed.shape(round, asker, reply.messages) };
    }
    if (resumed) {
      // The request is routed elsewhere now (the catalog changed): the backend that gave the state cannot have it back.
      const refusal = wireError('GW_REQUEST_STATE_INVALID', d.message.id, 'the backend that asked is no longer where this request goes; send the request again without requestState');
      return { kind: 'json', status: 200, body: JSON.stringify(statelessResponse(refusal, this.opts.serverInfo)) };
    }
    const reply = start();
    if (reply.kind === 'json') return { ...reply, body: this.shapedBody(reply) };
    if (reply.kind !== 'messages') return reply;
    return { ...reply, messages: held.first(round, reply.messages, reply.abort) };
  }

  /**
   * `subscriptions/listen`: subscribe the resources admission allowed in the caller's held record
   * (the backend session is then followed, and its updates reach this stream), acknowledge what is
   * honoured, and stream until the client goes. Closing the stream unsubscribes nothing: the held
   * record and its backend session are shared by every instance, and this process cannot see
   * whether a listen stream elsewhere still wants the resource. The backend's subscriptions end
   * with that backend session; updates nobody listens to are dropped.
   */
  async listen(d: Extract<Decision, { kind: 'listen' }>): Promise<Reply> {
    const subscribed: Forward[] = [];
    await Promise.all(d.subscribe.map(async (s) => void ((await this.succeeded(this.opts.forward(s))) && subscribed.push(s))));
    const honored: ListenFilter = {
      ...(d.filter.toolsListChanged ? { toolsListChanged: true } : {}),
      ...(d.filter.promptsListChanged ? { promptsListChanged: true } : {}),
      ...(d.filter.resourcesListChanged ? { resourcesListChanged: true } : {}),
      ...(d.filter.resourceSubscriptions ? { resourceSubscriptions: subscribed.map((s) => s.target.name) } : {}),
    };
    const abort = new AbortController();
    return { kind: 'messages', session: d.session, messages: this.listeners.stream(d.message.id, d.session.id, honored, abort.signal), abort, finish: () => {}, keepAlive: true };
  }

  /**
   * A backend's resource update for a held record: to the listen streams here that subscribed it,
   * and, unless the backend sends it to every instance's own subscription (`perInstance`), to
   * those on every other instance.
   */
  resourceUpdated(held: string, message: JsonRpcNotification, perInstance: boolean): void {
    this.listeners.resourceUpdated(held, message);
    if (!perInstance) this.opts.fanout?.publish(held, message);
  }

  closeListeners(): void {
    this.listeners.closeAll();
  }

  /** The gateway stops: held calls are cut. */
  cutAll(reason: Error): void {
    this.opts.held.cutAll(reason);
  }

  /** Whether a request the gateway sent for itself (not for a client's answer) succeeded. */
  private async succeeded(reply: Reply): Promise<boolean> {
    const response = await responseOf(reply);
    return response !== undefined && 'result' in response;
  }

  /** A JSON answer given without a backend (its backend is gone), in the stateless shape. */
  private shapedBody(reply: Extract<Reply, { kind: 'json' }>): string {
    const parsed = JSON.parse(typeof reply.body === 'string' ? reply.body : Buffer.concat(reply.body).toString('utf8')) as JsonRpcResponse;
    return JSON.stringify(statelessResponse(parsed, this.opts.serverInfo));
  }
}
