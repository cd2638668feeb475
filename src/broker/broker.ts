import type { Logger } from 'pino';
import { reject, type Decision } from '../admission/decision.js';
import type { Catalog } from '../catalog/catalog.js';
import { InvalidCursorError } from '../catalog/pager.js';
import type { BackendDescriptor } from '../catalog/model.js';
import { prefixOf } from '../catalog/naming.js';
import { GatewayError, wireError } from '../errors.js';
import { isNotification, isObject, isRequest, isResponse, success, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { LIST_CHANGED, RELAYED_NOTIFICATIONS, RESOURCE_UPDATED, ROOTS_LIST_CHANGED, serverCapabilities } from '../mcp/methods.js';
import { logVisible } from '../mcp/log-level.js';
import type { StreamSource } from '../upstream/backend-streams.js';
import { HEADER_SESSION_ID } from '../mcp/protocol.js';
import { ANONYMOUS, newSessionRecord, samePrincipal, type SessionRecord, type SessionStore } from '../session/store.js';
import { SessionQuota } from '../session/quota.js';
import { isHeldSessionId } from '../session/held.js';
import { routedCallOf, toolCallOf, type RoutedCall, type RoutedExecutor, type ToolCall, type ToolExecutor, type UpstreamCall } from '../upstream/call.js';
import { sessionRef } from '../telemetry/audit.js';
import type { McpBackends } from '../upstream/mcp-backend.js';
import type { ClientRelay } from '../upstream/client-relay.js';
import { answerBatch, json, type Reply } from './reply.js';
import type { StreamHub } from './streams.js';
import type { StreamDelivery } from './stream-delivery.js';
import { streamReply } from './resume.js';
import type { ListVisibility } from '../policy/visibility.js';
import { RunningCalls, type Start } from './running-calls.js';
import { eraOf } from '../mcp/era.js';
import type { CacheHint } from '../mcp/stateless-results.js';
import type { HeldCalls } from './held-calls.js';
import type { PassedCalls } from './passed-calls.js';
import { StatelessReplies, type PassOn } from './stateless.js';
import type { ListenFanout } from './listen-fanout.js';
import { serveTaskList } from './task-list.js';
import type { McpBackendConfig } from '../config/schema.js';
import type { CatalogTool } from '../catalog/model.js';
import { confirmed, type SessionConfirmOptions } from '../confirm/session.js';
import type { ConcurrencyCaps } from '../upstream/concurrency.js';

export interface BrokerOptions {
  readonly sessions: SessionStore;
  readonly catalog: Catalog;
  readonly rest: ToolExecutor;
  /** Reads and prompts a REST backend declares in configuration (src/upstream/rest-published.ts). */
  readonly restRouted: RoutedExecutor;
  readonly mcp: McpBackends;
  readonly streams: StreamHub;
  /** What reaches a session's GET stream from outside a call, on whichever instance holds the stream. */
  readonly delivery: StreamDelivery;
  readonly visibility: ListVisibility;
  readonly logger: Logger;
  /** Per-caller bounds (`sessions.maxPerPrincipal`, `sessions.maxStreamsPerSession`). */
  readonly limits: { readonly maxSessionsPerPrincipal: number; readonly maxStreamsPerSession: number };
  readonly serverInfo: { name: string; version: string; title?: string };
  /** Runs each tool call under audit, metrics and tracing (src/telemetry); without it calls run bare. */
  readonly observeCall?: (call: ToolCall, execute: ToolExecutor) => AsyncGenerator<JsonRpcMessage>;
  /** Runs each routed request (resources, prompts, completion) under audit and tracing. */
  readonly observeRequest?: (call: RoutedCall, execute: RoutedExecutor) => AsyncGenerator<JsonRpcMessage>;
  /** Calls another transport carries (Envoy straight to a backend), for relaying cancellations. */
  readonly routedCalls?: { cancel(sessionId: string, requestId: string | number, reason: string): boolean };
  /** Takes clients' answers to backends' requests (sampling, elicitation, roots) back to the backend that asked. */
  readonly relay?: ClientRelay;
  /** How long a client has to answer a backend's request made outside a call (a backend without its own `timeoutMs`). */
  readonly relayTimeoutMs?: number;
  /** Each backend's cap on calls open at once (`maxConcurrentCalls`), counted for this process; absent: no caps. */
  readonly caps?: ConcurrencyCaps;
  /** How a call the policy asks to confirm is put to the user (docs/confirmation.md); absent: such calls are refused as unavailable. */
  readonly confirm?: SessionConfirmOptions;
  /** Stateless (2026-07-28) clients: how their results may be cached, and the bridge that holds calls for their input. */
  readonly stateless?: {
    readonly cache: CacheHint;
    readonly held: HeldCalls;
    readonly passed: PassedCalls;
    readonly instructions?: string;
    /** Carries resource updates to listen streams on other instances (src/broker/listen-fanout.ts). */
    readonly fanout?: ListenFanout;
  };
}

/** Log levels at which `info` notifications still reach the client. */
const INFO_VISIBLE = new Set([undefined, 'debug', 'info']);

/**
 * Carries out admission decisions: the MCP server behind `/mcp` for everything that is not a
 * routed backend call in the Envoy topology, and for everything in the standalone gateway.
 */
export class Broker {
  /** Calls running on this process, by session and client request id (a stateless call: its own token), so a client can cancel them. */
  private readonly calls = new RunningCalls();

  /** What stateless (2026-07-28) clients get that session clients do not; absent: only sessions are served. */
  private readonly stateless: StatelessReplies | undefined;

  constructor(private readonly opts: BrokerOptions) {
    this.stateless = opts.stateless && new StatelessReplies({ ...opts.stateless, serverInfo: opts.serverInfo, catalog: opts.catalog, forward: (d) => this.forward(d) });
    opts.sessions.onExpired((r) => void this.release(r));
    opts.catalog.onChange((_s, changed) => {
      for (const method of new Set([...changed].map((list) => LIST_CHANGED[list]))) opts.streams.broadcast({ jsonrpc: '2.0', method });
    });
  }

  async handle(decision: Decision): Promise<Reply> {
    switch (decision.kind) {
      case 'reject': {
        const r: Reply = { kind: 'json', status: decision.status, body: JSON.stringify(decision.body) };
        if (decision.headers) r.headers = decision.headers;
        return r;
      }
      case 'respond':
        return json(decision.body);
      case 'initialize':
        return this.initialize(decision);
      case 'accepted':
        await this.accepted(decision);
        return { kind: 'empty', status: 202 };
      case 'list':
        return this.list(decision);
      case 'set-log-level':
        await this.opts.sessions.setLogLevel(decision.session.id, decision.level);
        return json(success(decision.message.id, {}));
      case 'call-tool':
        return this.statelessCall(decision) ?? this.callTool(decision);
      case 'forward':
        return this.statelessCall(decision) ?? this.forward(decision);
      case 'list-tasks':
        return serveTaskList(decision, {
          forward: (read, within) => this.forward(read, undefined, within),
          pageSize: () => this.opts.catalog.current().pageSize,
          // A failure loses nothing but the saving: the listing is answered whatever the store does.
          forget: (ids) => this.opts.sessions.forgetTasks(decision.session.id, ids).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message, session: sessionRef(decision.session.id) }, 'forgetting tasks failed')),
          calls: this.calls,
        });
      case 'discover':
        if (!this.stateless) return this.handle(reject('GW_UNKNOWN_METHOD', decision.message.id, '"server/discover"'));
        return json(success(decision.message.id, this.stateless.discover(decision.instructions)));
      case 'acknowledge':
        return { kind: 'empty', status: 202 };
      case 'listen':
        if (!this.stateless) return this.handle(reject('GW_UNKNOWN_METHOD', decision.message.id, '"subscriptions/listen"'));
        return this.stateless.listen(decision);
      case 'open-stream':
        if (this.opts.streams.countOf(decision.session.id) >= this.opts.limits.maxStreamsPerSession) {
          return this.handle(reject('GW_TOO_MANY_STREAMS', null, `the limit is ${this.opts.limits.maxStreamsPerSession}`));
        }
        return streamReply(decision.session, decision.lastEventId, this.opts.streams.log, this.opts.logger);
      case 'end-session': {
        const record = await this.opts.sessions.delete(decision.session.id);
        if (record) await this.release(record);
        return { kind: 'empty', status: 204 };
      }
      case 'batch': {
        // Settled one by one: an item that fails must not strand its siblings' running calls.
        const settled = await Promise.allSettled(decision.decisions.map((d) => this.handle(d)));
        return answerBatch(settled.map((s, i) => (s.status === 'fulfilled' ? s.value : this.failedItem(decision.decisions[i]!, s.reason))));
      }
    }
  }

  /** The answer of one batch item that failed inside the gateway, under its own id. */
  private failedItem(d: Decision, err: unknown): Reply {
    const id = 'message' in d && isRequest(d.message) ? d.message.id : null;
    if (err instanceof GatewayError) return json(wireError(err.code, id, err.detail));
    this.opts.logger.error({ err }, 'a batch item failed inside the gateway');
    return json(wireError('GW_INTERNAL', id));
  }

  private async initialize(d: Extract<Decision, { kind: 'initialize' }>): Promise<Reply> {
    const { message, protocolVersion, sourceIp } = d;
    const principal = d.caller.principal;
    const params = message.params ?? {};
    const created = newSessionRecord(principal, protocolVersion, {
      ...(isObject(params.capabilities) ? { capabilities: params.capabilities } : {}),
      ...(isObject(params.clientInfo) ? { info: params.clientInfo } : {}),
    });
    // Bound to the endpoint it was created on: admission refuses it on any other.
    const record = d.virtualServer === undefined ? created : { ...created, virtualServer: d.virtualServer };
    const owner = SessionQuota.owner(principal, samePrincipal(principal, ANONYMOUS), sourceIp);
    // Counted by the store: with Hazelcast, across every instance of the cluster.
    let made: boolean;
    try {
      made = await this.opts.sessions.createWithin(record, owner, this.opts.limits.maxSessionsPerPrincipal);
    } catch (err) {
      // The caller's other initialize requests held its count: a refusal of this request (its id kept, not logged as a failure).
      if (err instanceof GatewayError && err.code === 'GW_SESSION_CREATION_BUSY') return this.handle(reject(err.code, message.id, err.detail));
      throw err;
    }
    if (!made) {
      return this.handle(reject('GW_TOO_MANY_SESSIONS', message.id, `the limit is ${this.opts.limits.maxSessionsPerPrincipal} per caller`));
    }
    this.opts.logger.debug({ session: sessionRef(record.id), client: record.clientInfo, protocolVersion }, 'session created');
    const result = {
      protocolVersion,
      capabilities: serverCapabilities(),
      serverInfo: this.opts.serverInfo,
      ...(d.instructions === undefined ? {} : { instructions: d.instructions }),
    };
    return { kind: 'json', status: 200, body: JSON.stringify(success(message.id, result)), headers: { [HEADER_SESSION_ID]: record.id } };
  }

  /** The caller's page: the whole listing, or only the entries policy lets this caller use. */
  private async list(d: Extract<Decision, { kind: 'list' }>): Promise<Reply> {
    const { message, cursor, caller, session, sourceIp } = d;
    try {
      const pager = await this.opts.visibility.pagerFor(d.list, caller, session, d.catalog ?? this.opts.catalog.current(), sourceIp);
      const page = pager.page(cursor);
      const head = Buffer.from(`{"jsonrpc":"2.0","id":${JSON.stringify(message.id)},"result":`);
      const result = this.stateless && isStateless(session) ? this.stateless.listPage(page.resultJson) : [page.resultJson];
      return { kind: 'json', status: 200, body: [head, ...result, CLOSE_BRACE] };
    } catch (err) {
      if (err instanceof InvalidCursorError) return json(wireError('GW_INVALID_PARAMS', message.id, err.message));
      throw err;
    }
  }

  /** A `tools/call`, under audit; `native` runs it when the tool is a native MCP backend's (default: in the client's backend session). */
  private callTool(d: Extract<Decision, { kind: 'call-tool' }>, native: ToolExecutor = (c) => this.opts.mcp.execute(c)): Reply {
    const backend = this.opts.catalog.current().backends.get(d.tool.backend);
    if (!backend) return json(wireError('GW_UNKNOWN_TOOL', d.message.id, `"${d.tool.name}" (its backend is gone)`));
    return this.calls.run(d.session, d.message.id, (abort) => {
      const call = { ...toolCallOf(d, backend, abort), uriPrefix: this.uriPrefix(backend) };
      // Capped inside the confirmation: a call holds a slot of its backend only once the user said yes.
      const execute = confirmed(d, this.opts.confirm, this.capped(d.tool.route.kind === 'rest' ? this.opts.rest : native));
      return this.opts.observeCall ? this.opts.observeCall(call, execute) : execute(call);
    });
  }

  /**
   * A request routed by URI, prompt name or completion ref: sent in the client's backend session
   * (REST: translated), or by `native`. `within`: the signal of the request this one is part of (a
   * listing's read of a task), which then runs it rather than as a call of its own.
   */
  private forward(d: Extract<Decision, { kind: 'forward' }>, native: RoutedExecutor = (c) => this.opts.mcp.forward(c), within?: AbortSignal): Reply {
    const backend = this.opts.catalog.current().backends.get(d.target.backend);
    if (!backend) return json(wireError('GW_RESOURCE_NOT_FOUND', d.message.id, `"${d.target.name}" (its backend is gone)`));
    const start: Start = (abort) => {
      const call = { ...routedCallOf(d, backend, abort), uriPrefix: this.uriPrefix(backend) };
      // A REST backend's prompts are the gateway's own templates: only its resource reads reach it.
      // Task requests (get, result, cancel, and tasks/list's reads) hold no slot: the task's work was
      // counted by the call that created it, and a `tasks/result` waiting for the end of a long task,
      // or a listing reading eight tasks at once, would otherwise shut the backend's calls out.
      const execute: RoutedExecutor = backend.kind === 'rest' ? (d.message.method === 'resources/read' ? this.capped(this.opts.restRouted) : this.opts.restRouted) : d.target.kind === 'task' ? native : this.capped(native);
      return this.opts.observeRequest ? this.opts.observeRequest(call, execute) : execute(call);
    };
    return within ? this.calls.runWithin(d.session, within, start) : this.calls.run(d.session, d.message.id, start);
  }

  /** `execute` under the backends' caps on calls open at once, when there are caps. */
  private capped<C extends UpstreamCall>(execute: (call: C) => AsyncGenerator<JsonRpcMessage>): (call: C) => AsyncGenerator<JsonRpcMessage> {
    return this.opts.caps ? this.opts.caps.limit(execute) : execute;
  }

  /** A stateless client's call or routed request (src/broker/stateless.ts); undefined for a session client. */
  private statelessCall(d: Extract<Decision, { kind: 'call-tool' | 'forward' }>): Reply | Promise<Reply> | undefined {
    if (!this.stateless || !isStateless(d.session)) return undefined;
    return this.stateless.call(d, () => (d.kind === 'call-tool' ? this.callTool(d) : this.forward(d)), (extra) => this.passOn(d, extra));
  }

  /**
   * A stateless client's request for a backend known to speak the stateless era too: sent on as it
   * is (McpBackends.passThrough), under the same audit, with `extra` params. A backend whose era is
   * not known yet goes the bridged way (which probes it).
   */
  private passOn(d: Extract<Decision, { kind: 'call-tool' | 'forward' }>, extra: Record<string, unknown>): ReturnType<PassOn> {
    const backend = this.opts.catalog.current().backends.get(d.kind === 'call-tool' ? d.tool.backend : d.target.backend);
    if (backend?.kind !== 'mcp' || this.opts.mcp.knownEra(backend as McpBackendConfig) !== 'stateless') return undefined;
    const { mcp } = this.opts;
    const meta = mcp.clientMeta(d.session);
    const uriPrefix = this.uriPrefix(backend);
    const pass = (c: UpstreamCall, params: Record<string, unknown>, tool?: CatalogTool): AsyncGenerator<JsonRpcMessage> =>
      mcp.passThrough({
        backend: backend as McpBackendConfig,
        request: c.request,
        params: { ...params, ...extra },
        meta,
        caller: c.caller,
        abort: c.abort,
        uriPrefix,
        ...(tool ? { tool } : {}),
        ...(c.outboundHeaders ? { outboundHeaders: c.outboundHeaders } : {}),
        ...(c.onInstance ? { onInstance: c.onInstance } : {}),
      });
    const start =
      d.kind === 'call-tool'
        ? () => this.callTool(d, (c) => pass(c, { ...c.request.params, name: c.tool.upstreamName }, c.tool))
        : () => this.forward(d, (c) => pass(c, c.params));
    return { backend, start };
  }

  /** End every `subscriptions/listen` stream of this process (the gateway stops). */
  closeListeners(): void {
    this.stateless?.closeListeners();
  }

  /**
   * Under which prefix a backend's answers expose resource URIs: its own when it serves resources
   * under a namespace, else none, so links to what the gateway cannot serve (https://…) stay as they are.
   */
  private uriPrefix(backend: BackendDescriptor): string {
    return this.opts.catalog.current().rewritesUris.has(backend.name) ? prefixOf(backend) : '';
  }

  /** How many calls run on this process now (a draining server waits for them). */
  get running(): number {
    return this.calls.size;
  }

  /** Cut every call still running (shutdown after the grace period): each is recorded as `cut`. */
  cutAll(): number {
    const reason = new GatewayError('GW_SHUTTING_DOWN', 'the gateway stopped before the call ended');
    const n = this.calls.cutAll(reason);
    this.stateless?.cutAll(reason);
    return n;
  }

  /**
   * What a followed backend session sent unasked goes to the client session's GET stream, on
   * whichever gateway instance holds it: resource updates, log messages at or above the client's
   * level, progress, URL-mode elicitation completions, and the backend's requests (relayed like
   * those during a call). A held record's resource updates go to its `subscriptions/listen`
   * streams, on every instance. (List changes are heard by every instance's own watch of each backend.)
   */
  backendNotification(clientSessionId: string, message: JsonRpcNotification | JsonRpcRequest, from: StreamSource): void {
    // A refusal ends nothing here (no call asked): the backend has its answer already.
    if (isRequest(message)) void this.relayUnasked(clientSessionId, message, from).catch((err: Error) => this.opts.logger.debug({ err: err.message }, 'a backend request outside a call was refused'));
    else if (message.method === RESOURCE_UPDATED && isHeldSessionId(clientSessionId)) this.stateless?.resourceUpdated(clientSessionId, message, from.perInstance === true);
    else if (PASSED_UNASKED.has(message.method)) this.opts.delivery.send(clientSessionId, message);
    else if (message.method === RELAYED_NOTIFICATIONS.message) void this.logUnasked(clientSessionId, message);
  }

  private async logUnasked(clientSessionId: string, message: JsonRpcNotification): Promise<void> {
    const session = await this.opts.sessions.current(clientSessionId).catch(() => undefined);
    if (session && logVisible(session.logLevel, message.params?.level)) this.opts.delivery.send(clientSessionId, message);
  }

  /** A backend's request outside a call: to the client's GET stream on any instance; with none, the backend gets GW_RELAY_NO_STREAM. */
  private async relayUnasked(clientSessionId: string, request: JsonRpcRequest, from: StreamSource): Promise<void> {
    const relay = this.opts.relay;
    const session = await this.opts.sessions.current(clientSessionId).catch(() => undefined);
    const backend = this.opts.catalog.current().backends.get(from.backend);
    if (!relay || !session || !backend) return;
    const { endpoint } = from;
    const via = { instance: endpoint.url, sessionId: endpoint.sessionId ?? null, protocolVersion: endpoint.protocolVersion ?? session.protocolVersion };
    const timeoutMs = backend.timeoutMs ?? this.opts.relayTimeoutMs ?? 60_000;
    const out = await relay.toClient({ session, backend, via, endpoint, timeoutMs }, request);
    if (out) this.opts.delivery.send(clientSessionId, out, () => relay.abandon([out.id as string], 'GW_RELAY_NO_STREAM'));
  }

  /** Whether `info` notifications (streamed REST chunks) are wanted by the session. */
  static wantsInfo(session: SessionRecord): boolean {
    return INFO_VISIBLE.has(session.logLevel);
  }

  /**
   * A message from the client that is not a request: an answer to a backend's request goes back to
   * that backend (on whichever instance it lands); a roots change reaches every backend session
   * of the client; a cancellation stops the call it names.
   */
  private async accepted(d: Extract<Decision, { kind: 'accepted' }>): Promise<void> {
    const { session, message } = d;
    if (isResponse(message)) {
      await this.opts.relay?.fromClient(session, message, d.caller);
      return;
    }
    if (isNotification(message) && message.method === ROOTS_LIST_CHANGED) {
      await this.opts.mcp.notifyBackends(session, message, this.opts.catalog.current().backends);
      return;
    }
    this.notification(session, message);
  }

  private notification(session: SessionRecord, message: JsonRpcMessage): void {
    if (!isNotification(message) || message.method !== 'notifications/cancelled') return;
    const requestId = message.params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return;
    if (!this.calls.cancel(session.id, requestId, new Error('cancelled by the client'))) this.opts.routedCalls?.cancel(session.id, requestId, typeof message.params?.reason === 'string' ? message.params.reason : 'cancelled by the client');
  }

  /** Free what an ended session holds: its GET streams and its backend sessions. */
  private async release(record: SessionRecord): Promise<void> {
    this.opts.streams.closeSession(record.id);
    await this.opts.mcp.closeSessions(record, this.opts.catalog.current().backends);
  }
}

/** What a followed backend session sends unasked that reaches the client's GET stream as it is. */
const PASSED_UNASKED: ReadonlySet<string> = new Set([RESOURCE_UPDATED, RELAYED_NOTIFICATIONS.progress, RELAYED_NOTIFICATIONS.elicitationComplete]);

const CLOSE_BRACE = Buffer.from('}');

/** Whether a decision's session stands for a stateless client (its gateway-held record, src/session/held.ts). */
function isStateless(session: SessionRecord): boolean {
  return eraOf(session.protocolVersion) === 'stateless';
}
