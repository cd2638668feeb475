import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { isRetrySafe, type BackendDescriptor } from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError, upstreamFailure } from '../errors.js';
import { exposeResultUris } from '../catalog/uris.js';
import { isNotification, isRequest, isResponse, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { RELAYED_NOTIFICATIONS, TASK_STATUS } from '../mcp/methods.js';
import { createdTask, exposeTaskIds } from '../mcp/task-ids.js';
import type { BackendSession, SessionRecord, SessionStore } from '../session/store.js';
import type { RoutedCall, ToolCall, UpstreamCall } from './call.js';
import { Deadline } from './deadline.js';
import { asToolError, failureAnswer, type FailureShape } from './failure.js';
import { instanceLabel, withFailover } from './failover.js';
import { deleteSession, finishReply, openStream, postMessage, type McpEndpoint, type McpReply } from './mcp-wire.js';
import { resumableMessages } from './resumed-reply.js';
import type { Pools } from './pool.js';
import type { OutboundCredentials } from './credentials.js';
import type { BackendStreams } from './backend-streams.js';
import { describeNetworkError, neverReachedBackend } from './transport.js';
import type { ClientRelay, RelayOrigin } from './client-relay.js';
import { answersServerRequests, relayedCapabilities } from '../mcp/client-capabilities.js';
import { endpointOf, handshake, nextRequestId } from './mcp-handshake.js';
import { logVisible } from '../mcp/log-level.js';
import { eraOf } from '../mcp/era.js';
import type { Era } from '../mcp/era.js';
import type { BackendEras } from './backend-eras.js';
import type { StatelessBackends } from './stateless-backend.js';
import { sessionMeta, StatelessBridge } from './stateless-bridge.js';
import type { StatelessMeta } from './stateless-wire.js';
import { passThrough, type PassThroughCall } from './stateless-pass.js';

export interface McpBackendsOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly sessions: SessionStore;
  readonly defaultTimeoutMs: number;
  readonly credentials: OutboundCredentials;
  readonly logger: Logger;
  readonly clientInfo: { name: string; version: string };
  /** Backend sessions followed for their unasked notifications (resource updates); none: not followed. */
  readonly streams?: BackendStreams;
  /** Relays backends' requests to their clients (sampling, elicitation, roots); none: refused with -32601. */
  readonly relay?: ClientRelay;
  /** Which era each backend speaks: stateless-era backends get stateless requests instead of a backend session. */
  readonly eras: BackendEras;
  readonly stateless: StatelessBackends;
}

/**
 * The gateway as an MCP client of native backends. Each client session gets its own backend
 * session per backend (never one shared by all callers), remembered in the session record so
 * any gateway instance can continue it.
 */
export class McpBackends {
  private readonly opening = new Map<string, Promise<BackendSession>>();
  private readonly bridge: StatelessBridge;

  constructor(private readonly opts: McpBackendsOptions) {
    this.bridge = new StatelessBridge({ stateless: opts.stateless, clientInfo: opts.clientInfo, logger: opts.logger, ...(opts.relay ? { relay: opts.relay } : {}), ...(opts.streams ? { streams: opts.streams } : {}) });
  }

  /** The era pinned or learned for a backend, without asking it (undefined: not known yet). */
  knownEra(backend: McpBackendConfig): Era | undefined {
    return this.opts.eras.known(backend);
  }

  /**
   * For clients of the stateless era: send their request to a stateless-era backend as it is and
   * hand back its raw answer, `input_required` and `requestState` included (src/upstream/stateless-pass.ts).
   */
  passThrough(call: PassThroughCall): AsyncGenerator<JsonRpcMessage> {
    return passThrough({ stateless: this.opts.stateless, credentials: this.opts.credentials, defaultTimeoutMs: this.opts.defaultTimeoutMs }, call);
  }

  /**
   * What a stateless-era backend is told of a stateless client whose request is passed through:
   * the client's own capabilities (the part the gateway relays), client info and log level.
   */
  clientMeta(session: SessionRecord): StatelessMeta {
    const info = session.clientInfo;
    const clientInfo = info && typeof info.name === 'string' && typeof info.version === 'string' ? { name: info.name, version: info.version } : this.opts.clientInfo;
    return sessionMeta(session, clientInfo);
  }

  /** Forward a `tools/call` in the client's backend session and relay the backend's stream. */
  execute(call: ToolCall): AsyncGenerator<JsonRpcMessage> {
    const params = { ...call.request.params, name: call.tool.upstreamName };
    return this.exchange(call, 'tools/call', params, isRetrySafe(call.tool), asToolError(call.request.id), false);
  }

  /**
   * Forward a request routed by URI, prompt name or completion ref (params already in the
   * backend's terms). Reads, completions and (un)subscriptions are safe to send twice, so they
   * may move to another instance; failures are JSON-RPC errors, as the client asked no tool.
   */
  forward(call: RoutedCall): AsyncGenerator<JsonRpcMessage> {
    const id = call.request.id;
    return this.exchange(call, call.request.method, call.params, true, (code, detail) => upstreamFailure(code, id, detail), call.follow === true);
  }

  /**
   * Send one request in the client's backend session and relay the backend's stream; the answer
   * gets the client's id back, and the resource URIs it names are exposed (src/catalog/uris.ts).
   * With `follow`, a success has the backend session followed for what it sends unasked. A
   * stateless-era backend gets the request through the {@link StatelessBridge} instead.
   */
  private async *exchange(call: UpstreamCall, method: string, params: Record<string, unknown>, retrySafe: boolean, fail: FailureShape, follow: boolean): AsyncGenerator<JsonRpcMessage> {
    const backend = call.backend as McpBackendConfig;
    const clientId = call.request.id;
    const deadline = new Deadline(call.abort, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    const pool = this.opts.pools.get(backend.name, backend.urls);
    let bs: BackendSession | undefined = call.session.backendSessions[backend.name];
    /** The backend session that just failed, so a new one is opened instead of it. */
    let failed: BackendSession | undefined;
    let retried = false;
    try {
      const headers = await this.opts.credentials.headers(backend, call.caller, call.outboundHeaders);
      if ((await this.opts.eras.of(backend, deadline.signal)) === 'stateless') {
        return yield* this.bridge.exchange(call, method, params, retrySafe, fail, deadline, headers);
      }
      for (;;) {
        if (!bs || !backend.urls.includes(bs.instance)) bs = await this.ensureSession(call.session, backend, headers, deadline.signal, bs ?? failed);
        call.onInstance?.(bs.instance);
        const ep = endpointOf(bs, headers);
        const backendId = nextRequestId();
        const message: JsonRpcRequest = { jsonrpc: '2.0', id: backendId, method, params };
        let reply: McpReply;
        try {
          reply = await postMessage(this.opts.dispatcher, ep, message, deadline.signal);
        } catch (err) {
          if (deadline.signal.aborted) throw err;
          pool.failed(bs.instance);
          if (!retried && (neverReachedBackend(err) || retrySafe)) {
            retried = true;
            failed = bs;
            bs = undefined;
            continue;
          }
          return yield fail('GW_UPSTREAM_UNAVAILABLE', `backend "${backend.name}", ${instanceLabel(backend.urls, bs.instance)}: ${describeNetworkError(err)}`);
        }
        if (reply.status === 404 && bs.sessionId && !retried) {
          // The backend forgot our session (restart, expiry): start a new one, once.
          await reply.body.dump();
          this.opts.logger.debug({ backend: backend.name, instance: bs.instance }, 'backend session lost; re-initializing');
          retried = true;
          failed = bs;
          bs = undefined;
          continue;
        }
        pool.succeeded(bs.instance);
        if (reply.status !== 200) {
          const body = (await reply.body.text().catch(() => '')).slice(0, 1000);
          return yield fail('GW_UPSTREAM_HTTP_ERROR', `HTTP ${reply.status} from backend "${backend.name}"${body ? `: ${body}` : ''}`);
        }
        // The client may stop reading once it has the answer, so the follow starts before it is handed over.
        const prefix = call.uriPrefix ?? '';
        // A client that answers backends' requests may be asked outside a call too: its backend session is followed.
        // (A stateless client has no stream to be asked on outside a call: its held record is not followed for that.)
        const asksOutside = answersServerRequests(call.session.clientCapabilities) && eraOf(call.session.protocolVersion) === 'session';
        const onResult = follow || asksOutside ? () => this.opts.streams?.follow(call.session.id, backend.name, prefix, ep) : undefined;
        const origin: RelayOrigin = {
          session: call.session,
          backend,
          via: bs,
          endpoint: ep,
          caller: call.caller,
          sourceIp: call.sourceIp ?? null,
          timeoutMs: deadline.remainingMs(),
          ...(call.answerOnly ? { answerOnly: true } : {}),
          ...('tool' in call ? { tool: (call as ToolCall).tool } : {}),
        };
        yield* this.relay(reply, origin, backendId, clientId, deadline, prefix, onResult);
        return;
      }
    } catch (err) {
      const answer = failureAnswer(err, deadline, clientId, backend.name, fail);
      if (answer) yield answer;
    } finally {
      deadline.dispose();
    }
  }

  /**
   * The client session's backend session for `call`, opened (on a healthy instance) when it has
   * none, or when its instance left the backend's instance list. For callers that send the call
   * themselves (the Envoy topology routes native calls straight to the backend).
   */
  async backendSession(call: ToolCall, headers: Record<string, string>, signal: AbortSignal): Promise<BackendSession> {
    const backend = call.backend as McpBackendConfig;
    const bs = call.session.backendSessions[backend.name];
    if (bs && backend.urls.includes(bs.instance)) return bs;
    return this.ensureSession(call.session, backend, headers, signal, bs);
  }

  /** Forget a backend session that failed or that its backend no longer knows; the next call opens a new one. */
  async forgetSession(sessionId: string, backend: string): Promise<void> {
    await this.opts.sessions.setBackendSession(sessionId, backend, undefined);
  }

  /**
   * Open (and remember) the client session's backend session. Concurrent first calls of one
   * client session share one handshake instead of each opening a session. The record this
   * instance holds may predate another instance's change, so the store's current record is read
   * first: a backend session another gateway instance just opened is used, not opened again.
   */
  private ensureSession(session: SessionRecord, backend: McpBackendConfig, headers: Record<string, string>, signal: AbortSignal, stale: BackendSession | undefined): Promise<BackendSession> {
    const key = `${session.id}\u0000${backend.name}\u0000${stale?.sessionId ?? ''}`;
    let opening = this.opening.get(key);
    if (!opening) {
      const pool = this.opts.pools.get(backend.name, backend.urls);
      opening = (async () => {
        const known = (await this.opts.sessions.current(session.id))?.backendSessions[backend.name];
        if (known && backend.urls.includes(known.instance) && known.sessionId !== stale?.sessionId) return known;
        const capabilities = relayedCapabilities(session.clientCapabilities);
        const bs = await withFailover(pool, true, (url) => this.openSession(backend, url, headers, signal, capabilities), () => signal.aborted);
        await this.opts.sessions.setBackendSession(session.id, backend.name, bs);
        return bs;
      })();
      this.opening.set(key, opening);
      void opening.catch(() => {}).finally(() => this.opening.delete(key));
    }
    return opening;
  }

  /**
   * Relay a reply: notifications pass through, the response gets the client's id back and the URIs
   * it names exposed; `onResult` runs when the backend answered with a result, before it is relayed.
   */
  private async *relay(reply: McpReply, origin: RelayOrigin, backendId: string, clientId: string | number, deadline: Deadline, prefix: string, onResult?: () => void): AsyncGenerator<JsonRpcMessage> {
    const ep = origin.endpoint;
    let answered = false;
    /** Requests of the backend relayed to the client during this exchange. */
    const relayed: string[] = [];
    try {
      const resume = (lastEventId: string): Promise<McpReply> => openStream(this.opts.dispatcher, ep, deadline.signal, lastEventId);
      for await (const m of resumableMessages(reply, resume, deadline.signal)) {
        if (isResponse(m)) {
          if (m.id !== backendId) continue;
          answered = true;
          if (!('result' in m)) return yield { ...m, id: clientId };
          onResult?.();
          const result = exposeTaskIds(origin.backend.name, exposeResultUris(prefix, m.result));
          // A task-augmented call created a task: only this session may reach it (src/admission/routed.ts).
          const task = createdTask(result);
          if (task) await this.opts.sessions.addTask(origin.session.id, task);
          yield { ...m, id: clientId, result };
          return;
        }
        if (isRequest(m)) {
          const out = await this.toClient(origin, m);
          if (out) {
            relayed.push(out.id as string);
            yield out;
          }
          continue;
        }
        if (isNotification(m)) {
          const out = await this.notificationToClient(origin, m);
          if (out) yield out;
        }
      }
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'the backend closed the stream without answering');
    } finally {
      if (relayed.length > 0) this.opts.relay?.abandon(relayed, deadline.timedOut ? 'GW_RELAY_TIMEOUT' : 'GW_RELAY_CANCELLED');
      if (answered) finishReply(reply);
      else {
        reply.body.destroy();
        if (deadline.signal.aborted) this.cancel(ep, backendId, deadline.timedOut ? 'timeout' : 'cancelled by the client');
      }
    }
  }

  /** A backend's request to the client, as the client sees it; undefined when the backend was answered instead. */
  private async toClient(origin: RelayOrigin, m: JsonRpcRequest): Promise<JsonRpcRequest | undefined> {
    if (this.opts.relay) return this.opts.relay.toClient(origin, m);
    this.send(origin.endpoint, { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `the gateway does not relay "${m.method}"` } });
    return undefined;
  }

  /**
   * A backend's notification, as the client sees it: log messages below the client's level are
   * dropped, and the cancellation of a relayed request names the id the client saw.
   */
  private async notificationToClient(origin: RelayOrigin, m: JsonRpcNotification): Promise<JsonRpcNotification | undefined> {
    if (m.method === RELAYED_NOTIFICATIONS.message) return logVisible(origin.session.logLevel, m.params?.level) ? m : undefined;
    if (m.method === RELAYED_NOTIFICATIONS.cancelled && this.opts.relay) return (await this.opts.relay.backendCancelled(origin, m)) ?? m;
    if (m.method === TASK_STATUS && m.params) return { ...m, params: exposeTaskIds(origin.backend.name, m.params) };
    return m;
  }

  /** Close every backend session a client session holds (on DELETE or expiry). */
  async closeSessions(record: SessionRecord, backends: ReadonlyMap<string, BackendDescriptor>): Promise<void> {
    this.opts.streams?.close(record.id);
    await Promise.all(
      Object.entries(record.backendSessions).map(async ([name, bs]) => {
        try {
          const backend = backends.get(name);
          const ep = endpointOf(bs, backend ? await this.opts.credentials.headers(backend, undefined) : {});
          await deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(5_000));
        } catch (err) {
          this.opts.logger.debug({ backend: name, err: describeNetworkError(err) }, 'closing backend session failed');
        }
      }),
    );
  }

  /** Pass a client's notification (a roots change) to every backend session it holds; best effort. */
  async notifyBackends(record: SessionRecord, message: JsonRpcNotification, backends: ReadonlyMap<string, BackendDescriptor>): Promise<void> {
    await Promise.all(
      Object.entries(record.backendSessions).map(async ([name, bs]) => {
        const backend = backends.get(name);
        if (!backend || !bs.sessionId) return;
        this.send(endpointOf(bs, await this.opts.credentials.headers(backend, undefined)), message);
      }),
    );
  }

  /** Tell a backend to stop a request (`notifications/cancelled`); best effort, never throws. */
  cancel(ep: McpEndpoint, requestId: string | number, reason: string): void {
    this.send(ep, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId, reason } });
  }

  /** Send a message that expects no answer, without waiting: best effort, never throws. */
  private send(ep: McpEndpoint, message: JsonRpcMessage): void {
    void postMessage(this.opts.dispatcher, ep, message, AbortSignal.timeout(2_000))
      .then((r) => r.body.dump())
      .catch(() => {});
  }

  /** The initialize handshake with one instance, declaring what the client it serves can do (the relayed part). */
  private async openSession(backend: McpBackendConfig, url: string, headers: Record<string, string>, signal: AbortSignal, capabilities: Record<string, unknown>): Promise<BackendSession> {
    return (await handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, signal, capabilities)).session;
  }
}

