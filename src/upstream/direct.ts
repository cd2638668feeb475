/**
 * Native MCP tool calls the gateway does not carry itself. In the Envoy topology Envoy sends an
 * admitted `tools/call` straight to the backend's cluster; this plans what changes on the way
 * (the backend's tool name, its session id and protocol version, the gateway's credentials in
 * place of the client's token) and learns from the backend's answer status. A stateless client's
 * call of a stateless backend needs no session (src/upstream/direct-stateless.ts). Only a call
 * between peers of the same era is routed; bridging the eras is the broker's. Transport-neutral:
 * the ext_proc adapter turns a plan into Envoy mutations.
 */
import { randomUUID } from 'node:crypto';
import type { Decision } from '../admission/decision.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import type { McpBackendConfig } from '../config/schema.js';
import { isRetrySafe } from '../catalog/model.js';
import { isObject, success, type JsonRpcId, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { HEADER_PROTOCOL_VERSION, HEADER_SESSION_ID } from '../mcp/protocol.js';
import { toolCallOf, type ToolCall, type ToolExecutor } from './call.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { failureAnswer } from './failure.js';
import { inflightKey, newInflightKey } from './inflight.js';
import type { McpBackends } from './mcp-backend.js';
import type { McpEndpoint } from './mcp-wire.js';
import type { Pools } from './pool.js';
import { toolError } from './results.js';
import { unbracket } from '../net.js';
import { AddressCache } from './address-cache.js';
import { answersServerRequests } from '../mcp/client-capabilities.js';
import { GatewayError } from '../errors.js';
import { eraOf, STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import { samePath, statelessTarget, type DirectTarget } from './direct-stateless.js';
import { OVERFLOW, replacesAnswer, routedFailureAnswer, FailedAnswers, type AnswerStatus, type FailureFacts } from './direct-failures.js';
import type { SessionStore } from '../session/store.js';
import type { ServerInfo } from '../mcp/stateless-results.js';
import { memoize } from '../memo.js';

/** Client headers that never reach a backend: its token (no passthrough) and its own MCP session. */
export const CLIENT_ONLY_HEADERS: readonly string[] = ['authorization', 'cookie', HEADER_SESSION_ID, HEADER_PROTOCOL_VERSION, 'last-event-id'];

export interface DirectCallsOptions {
  readonly mcp: McpBackends;
  readonly credentials: OutboundCredentials;
  readonly pools: Pools;
  readonly catalog: () => CatalogSnapshot;
  readonly defaultTimeoutMs: number;
  /** Runs the call under audit, metrics and tracing (the same hook the broker uses). */
  readonly observeCall?: (call: ToolCall, execute: ToolExecutor) => AsyncGenerator<JsonRpcMessage>;
  /** Where a replica hands a routed call's failing status to the call's replica (src/upstream/direct-failures.ts). */
  readonly sessions?: SessionStore;
  /** The gateway's serverInfo: a stateless client's answer in place of a failing one carries it. */
  readonly serverInfo?: ServerInfo;
}

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/**
 * What the planner decided: send the request on (with these changes), answer in the backend's
 * stead, or nothing at all because the client cancelled the call while it was being planned.
 */
export type DirectPlan = { kind: 'forward'; call: DirectCall } | { kind: 'answer'; body: JsonRpcResponse } | { kind: 'cancelled' };

/** A call still being planned (its backend session opening): a cancellation aborts it. */
interface Planning {
  readonly planning: AbortController;
}

export class DirectCalls {
  /** Endpoints are IPs (xDS resolves names the same way), so a pinned instance is named by IP. */
  private readonly addresses = new AddressCache();
  /** Calls on their way or streaming, by client session and request id (a stateless call: its own token), so a client can cancel them. */
  private readonly inflight = new Map<string, DirectCall | Planning>();
  /** Routed calls whose failing answer the transport shows on its own ({@link DirectCall.failureShownApart}). */
  private readonly failures: FailedAnswers;

  constructor(private readonly opts: DirectCallsOptions) {
    this.failures = new FailedAnswers(opts.sessions, opts.serverInfo);
  }

  /**
   * Relay a client's `notifications/cancelled` to the backend running the call. Only a stateful
   * backend session can tell which request to stop; a stateless backend never hears of it.
   * False when no routed call of that session has that id.
   */
  cancel(sessionId: string, requestId: JsonRpcId, reason: string): boolean {
    const call = this.inflight.get(inflightKey(sessionId, requestId));
    if (!call) return false;
    if ('planning' in call) call.planning.abort(new Error(reason));
    else if (call.endpoint.sessionId) this.opts.mcp.cancel(call.endpoint, requestId, reason);
    return true;
  }

  /**
   * Cut every routed call still planned or streaming (the gateway stops after its grace
   * period): each is recorded as `cut`, whatever its exchange does after the gateway is gone.
   */
  cutAll(): number {
    const calls = [...this.inflight.values()];
    const reason = new GatewayError('GW_SHUTTING_DOWN', 'the gateway stopped before the call ended');
    for (const call of calls) {
      if ('planning' in call) call.planning.abort(reason);
      else call.cut(reason);
    }
    return calls.length;
  }

  /** @internal The call's exchange is over. */
  forget(call: DirectCall): void {
    if (this.inflight.get(call.key) === call) this.inflight.delete(call.key);
    this.failures.forget(call);
  }

  /** @internal The answer in place of a routed call's failing one, in its client's era's shape. */
  failureAnswer(plan: DirectCallPlan, status: AnswerStatus): JsonRpcResponse {
    return routedFailureAnswer(plan, status, this.opts.serverInfo);
  }

  /** @internal See {@link DirectCall.failureShownApart}. */
  watch(call: DirectCall): void {
    this.failures.watch(call);
  }

  /**
   * A routed call's failing answer, shown apart from the call's own exchange (envoy.yaml's
   * `mcp.failed_answers`, which names the call by {@link DirectCall.id}, and carries `facts` for a
   * replica that did not route it): the answer the client gets instead, as {@link DirectCall.settle}
   * gives it; undefined to let it through (a rate limiter's refusal: `rateLimited`, or nothing known).
   */
  failedAnswer(id: string, status: AnswerStatus, rateLimited: boolean, facts?: FailureFacts): Promise<JsonRpcResponse | undefined> {
    return this.failures.answer(id, status, rateLimited, facts);
  }

  /**
   * Plan a call to a native MCP backend, opening the client's backend session if it has none.
   * Undefined when the call is not for a native backend the transport can reach (`routable`);
   * the broker carries it instead.
   */
  async plan(d: CallTool, routable: (backend: McpBackendConfig) => boolean): Promise<DirectPlan | undefined> {
    const backend = this.backendOf(d, routable);
    if (!backend) return undefined;
    const abort = new AbortController();
    let seen: ToolCall | undefined;
    let end!: (r: JsonRpcResponse | undefined) => void;
    const ended = new Promise<JsonRpcResponse | undefined>((resolve) => (end = resolve));
    const call = toolCallOf(d, backend, abort);
    const execute: ToolExecutor = (c) => {
      seen = c;
      return (async function* () {
        const r = await ended;
        if (r) yield r;
      })();
    };
    const observed = this.opts.observeCall ? this.opts.observeCall(call, execute) : execute(call);
    void drain(observed);
    const deadline = new Deadline(abort, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    const key = newInflightKey(d.session.id, d.message.id);
    const planning: Planning = { planning: abort };
    this.inflight.set(key, planning);
    try {
      const c = seen ?? call;
      const headers = await this.opts.credentials.headers(backend, d.caller, c.outboundHeaders);
      const target = eraOf(d.session.protocolVersion) === 'stateless' ? statelessTarget(d, backend, headers, this.opts.mcp.clientMeta(d.session)) : await this.sessionTarget(c, d, headers, deadline.signal);
      const url = instanceOf(target.endpoint.url);
      const host = await this.addresses.of(url.hostname);
      abort.signal.throwIfAborted(); // cancelled while the session opened
      const direct = new DirectCall(this, key, randomUUID(), end, abort, target.endpoint, {
        sessionId: d.session.id,
        backend: backend.name,
        instance: target.endpoint.url,
        address: { host, port: url.port },
        pinned: target.endpoint.sessionId !== null,
        path: url.path,
        headers: target.set,
        body: Buffer.from(JSON.stringify(target.message)),
        retrySafe: isRetrySafe(d.tool),
        budgetMs: deadline.ms,
        timeoutMs: deadline.remainingMs(),
        requestId: d.message.id,
        stateless: target.endpoint.sessionId === null && target.endpoint.protocolVersion === STATELESS_PROTOCOL_VERSION,
      });
      this.inflight.set(key, direct);
      return { kind: 'forward', call: direct };
    } catch (err) {
      if (this.inflight.get(key) === planning) this.inflight.delete(key);
      if (abort.signal.aborted && !deadline.timedOut) {
        end(undefined); // recorded as cancelled
        return { kind: 'cancelled' };
      }
      // The telemetry hook waits for `end`, even when the failure is a bug that is rethrown.
      let body: JsonRpcResponse = success(d.message.id, toolError('GW_INTERNAL', undefined));
      try {
        // Undefined only for a client cancellation, which returned above.
        body = failureAnswer(err, deadline, d.message.id, backend.name) ?? body;
      } finally {
        end(body);
      }
      return { kind: 'answer', body };
    } finally {
      deadline.dispose();
    }
  }

  /** A session-era call: in the client's backend session (opened now if it has none), on the instance that holds it. */
  private async sessionTarget(c: ToolCall, d: CallTool, headers: Record<string, string>, signal: AbortSignal): Promise<DirectTarget> {
    const bs = await this.opts.mcp.backendSession(c, headers, signal);
    c.onInstance?.(bs.instance);
    const set: Record<string, string> = { ...headers, [HEADER_PROTOCOL_VERSION]: bs.protocolVersion };
    if (bs.sessionId) set[HEADER_SESSION_ID] = bs.sessionId;
    const message = { ...d.message, params: { ...d.message.params, name: d.tool.upstreamName } };
    return { endpoint: { url: bs.instance, sessionId: bs.sessionId, protocolVersion: bs.protocolVersion, headers }, set, message };
  }

  /**
   * Called by {@link DirectCall.settle}: the transport ran out of the call's budget. The instance
   * is slow, not broken, and the backend session is intact; the backend is told to stop.
   */
  timedOut(call: DirectCall): void {
    if (call.endpoint.sessionId) this.opts.mcp.cancel(call.endpoint, call.plan.requestId, 'timeout');
  }

  /** Called by {@link DirectCall.settle}: learn from a failed answer. */
  async failed(call: DirectCallPlan, lostSession: boolean): Promise<void> {
    this.opts.pools.peek(call.backend)?.failed(call.instance);
    // A pinned session lives on one instance only: the next call opens one on a healthy instance.
    if (lostSession || call.pinned) await this.opts.mcp.forgetSession(call.sessionId, call.backend);
  }

  succeeded(call: DirectCallPlan): void {
    this.opts.pools.peek(call.backend)?.succeeded(call.instance);
  }

  private backendOf(d: CallTool, routable: (backend: McpBackendConfig) => boolean): McpBackendConfig | undefined {
    if (d.tool.route.kind !== 'mcp') return undefined;
    const snapshot = this.opts.catalog();
    // Its results may link to its resources, whose URIs only the broker rewrites for the client.
    if (snapshot.rewritesUris.has(d.tool.backend)) return undefined;
    // A backend may ask this client things during the call (sampling, elicitation, roots): only the
    // broker maps those requests' ids and takes the client's answers back (docs/envoy-topology.md).
    if (answersServerRequests(d.session.clientCapabilities)) return undefined;
    // A retried MRTR request continues a call the broker holds (its requestState is the gateway's).
    if (d.resume) return undefined;
    // A task-augmented call creates a task whose id only the broker namespaces and binds to the session.
    if (isObject(d.message.params?.task)) return undefined;
    const backend = snapshot.backends.get(d.tool.backend);
    // Only a backend of the client's own era takes the call as the client sent it: bridging the eras
    // (backend sessions for a stateless client, `_meta` and result shapes for a session client) is
    // the broker's, and so is every call while the backend's era is not known yet.
    if (backend?.kind !== 'mcp') return undefined;
    const era = this.opts.mcp.knownEra(backend);
    if (era !== eraOf(d.session.protocolVersion)) return undefined;
    // Envoy picks a stateless backend's instance itself: the request's path must hold on every one.
    if (era === 'stateless' && !samePath(backend.urls)) return undefined;
    return routable(backend) ? backend : undefined;
  }
}

/** Where the backend session lives and what the request must carry there. */
export interface DirectCallPlan {
  readonly sessionId: string;
  readonly backend: string;
  /** The instance URL that holds the backend session. */
  readonly instance: string;
  /** That instance's address, as the transport knows its endpoints. */
  readonly address: { readonly host: string; readonly port: number };
  /** The backend session exists on `instance` only (a stateful backend): the request must go there. */
  readonly pinned: boolean;
  /** Path and query of the backend's MCP endpoint. */
  readonly path: string;
  /** Headers to set; {@link CLIENT_ONLY_HEADERS} are removed first. */
  readonly headers: Readonly<Record<string, string>>;
  /** The JSON-RPC request as the backend must see it (its own tool name). */
  readonly body: Buffer;
  /** The tool may run twice (read-only or idempotent), so a retry may follow a sent request. */
  readonly retrySafe: boolean;
  /** The backend's call budget (`timeoutMs`). */
  readonly budgetMs: number;
  /** What is left of it once the backend session is open: the transport enforces this. */
  readonly timeoutMs: number;
  readonly requestId: JsonRpcId;
  /**
   * A stateless-era call to a stateless-era backend: no backend session, and the backend's answer
   * (`resultType`, its own serverInfo) already in the client's shape; the transport may leave its
   * status unread ({@link DirectCall.unread}).
   */
  readonly stateless: boolean;
}

/** How close to its budget an exchange must end to count as cut by Envoy's router. */
const CUT_TOLERANCE_MS = 50;

/**
 * One planned call, until its exchange ends: the backend's answer status settles it (instance
 * health, sessions), and an answer that passes ends it (audit, metrics) when its stream does.
 */
export class DirectCall {
  private settled = false;
  /** A 200 passed: the answer is streaming past the gateway. */
  private streaming = false;
  /** Only a failing answer is shown, apart ({@link failureShownApart}). */
  private failuresOnly = false;
  private readonly forwardedAt = Date.now();

  constructor(
    private readonly owner: DirectCalls,
    /** What the owner keeps it under (src/upstream/inflight.ts). */
    readonly key: string,
    /**
     * Names the call to the transport, which names it back with a failing answer: random, since
     * the backend sees it (no session or request id in it, and none to guess another call's by).
     */
    readonly id: string,
    private readonly end: (r: JsonRpcResponse | undefined) => void,
    /** The call's own controller: its reason tells the audit why an unanswered call ended. */
    private readonly abort: AbortController,
    /** Where the call runs, for relaying a cancellation. */
    readonly endpoint: McpEndpoint,
    readonly plan: DirectCallPlan,
  ) {}

  /** The gateway stops: the call ends now, recorded as cut (see {@link DirectCalls.cutAll}). */
  cut(reason: Error): void {
    this.abort.abort(reason);
    this.settled = true;
    this.streaming = false;
    this.end(undefined);
    this.owner.forget(this);
  }

  /** The exchange ended before any answer (the client went away): recorded as cancelled. */
  abandon(): void {
    if (this.settled) return;
    this.settled = true;
    this.end(undefined);
  }

  /**
   * The transport will not show the answer's status (a stateless call, whose response phase is
   * skipped): the answer streams past unread, and the call ends when its exchange does, as
   * answered unless it lasted its whole budget. Instance health is then Envoy's alone (outlier
   * detection), and an answer that failed is recorded as answered (docs/envoy-topology.md).
   */
  unread(): void {
    this.settled = true;
    this.streaming = true;
  }

  /**
   * The transport shows only a failing answer's status, apart from the call's own exchange
   * ({@link DirectCalls.failedAnswer}; envoy.yaml's pipelined mode): an exchange that ends without
   * one answered the call, and it ends as an unread one does ({@link unread}), instance health
   * left to Envoy; one the transport cut ends unanswered ({@link abandonUnseen}).
   */
  failureShownApart(): void {
    this.failuresOnly = true;
    this.owner.watch(this);
  }

  /** The transport cut the exchange: a call that shows only failing answers and saw none ends unanswered. */
  abandonUnseen(): void {
    if (this.failuresOnly) this.abandon();
  }

  /** The exchange is over: the answer streamed to its end, was replaced, or the client left. */
  closed(): void {
    const { plan } = this;
    if (this.abort.signal.aborted) return; // cut: already recorded
    if (this.failuresOnly && !this.settled) {
      // No failing answer shown: answered. Instance health is Envoy's here (outlier detection),
      // as for an unread call: success is an inference, not an answer the gateway read.
      this.settled = true;
      this.streaming = true;
    }
    if (!this.streaming) this.abandon();
    // Envoy's router cuts an answer still streaming when the budget runs out, so an exchange
    // that lasted that long was cut: recorded (and the backend told) as a timeout. Envoy's timer
    // and this clock differ by a few ms either way; an answer that ends within the tolerance of
    // its budget counts as cut.
    else if (Date.now() - this.forwardedAt >= plan.timeoutMs - CUT_TOLERANCE_MS) {
      this.owner.timedOut(this);
      this.end(success(plan.requestId, toolError('GW_UPSTREAM_TIMEOUT', `backend "${plan.backend}" was still answering after ${plan.budgetMs} ms; its answer was cut`)));
    } else this.end(success(plan.requestId, {}));
    this.streaming = false;
    this.owner.forget(this);
  }

  /**
   * The backend's (or the transport's) answer status: undefined to let the answer through, or
   * the answer the client gets instead. 200 passes; 404 means the backend lost the session;
   * anything else means the call failed on this instance.
   */
  async settle(status: AnswerStatus): Promise<JsonRpcResponse | undefined> {
    if (this.settled) return undefined;
    this.settled = true;
    await this.learn(status);
    if (status === 200 || status === 202) {
      // The body streams past the gateway; the call ends when the exchange does (`closed`).
      this.streaming = true;
      return undefined;
    }
    const body = this.owner.failureAnswer(this.plan, status);
    this.end(body);
    // Recorded as the gateway's error either way; passed on as the backend wrote it when it is the client's to read.
    return replacesAnswer(this.plan, status) ? body : undefined;
  }

  /** @internal A failing status handed over after the call was recorded: what it tells is learnt all the same. */
  async learnLate(status: AnswerStatus): Promise<void> {
    if (status !== 200 && status !== 202) await this.learn(status);
  }

  /** What the answer's status tells about the instance, the backend session, the backend's work. */
  private async learn(status: AnswerStatus): Promise<void> {
    const { plan } = this;
    // Envoy's circuit breaker refused it: no instance saw the call, and the backend session is intact.
    if (status === OVERFLOW) return;
    if (status === 200 || status === 202) this.owner.succeeded(plan);
    else if (status === 504) this.owner.timedOut(this);
    // A 2026-07-28 backend's 4xx is its answer to the request, not a failing instance.
    else if (replacesAnswer(plan, status)) await this.owner.failed(plan, status === 404 && plan.pinned);
  }

}

/** What a routed call needs of its instance's URL, parsed once: the same few URLs serve every call. */
const instanceOf = memoize((instance: string): { readonly hostname: string; readonly port: number; readonly path: string } => {
  const url = new URL(instance);
  return Object.freeze({ hostname: unbracket(url.hostname), port: Number(url.port || 80), path: url.pathname + url.search });
}, 1_000);

async function drain(it: AsyncGenerator<unknown>): Promise<void> {
  try {
    for await (const _ of it);
  } catch {
    // The telemetry hook records crashes itself.
  }
}
