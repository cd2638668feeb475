import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { isRetrySafe, type BackendDescriptor, type ToolDefinition } from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { isNotification, isRequest, isResponse, success, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { isSupportedVersion, LATEST_PROTOCOL_VERSION } from '../mcp/protocol.js';
import type { BackendSession, SessionRecord, SessionStore } from '../session/store.js';
import type { ToolCall } from './call.js';
import { Deadline } from './deadline.js';
import { failureAnswer } from './failure.js';
import { withFailover } from './failover.js';
import { deleteSession, finishReply, postMessage, replyMessages, type McpEndpoint, type McpReply } from './mcp-wire.js';
import type { Pools } from './pool.js';
import type { OutboundCredentials } from './credentials.js';
import { toolError } from './results.js';
import { describeNetworkError, neverReachedBackend } from './transport.js';

export interface McpBackendsOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly sessions: SessionStore;
  readonly defaultTimeoutMs: number;
  readonly credentials: OutboundCredentials;
  readonly logger: Logger;
  readonly clientInfo: { name: string; version: string };
}

/**
 * The gateway as an MCP client of native backends. Each client session gets its own backend
 * session per backend (never one shared by all callers), remembered in the session record so
 * any gateway instance can continue it.
 */
export class McpBackends {
  private nextId = 1;
  private readonly opening = new Map<string, Promise<BackendSession>>();

  constructor(private readonly opts: McpBackendsOptions) {}

  /** Ask a backend for all its tools, in a short-lived discovery session. */
  async discover(backend: McpBackendConfig, signal: AbortSignal): Promise<ToolDefinition[]> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const deadline = Deadline.under(signal, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    try {
      return await withFailover(pool, true, async (url) => {
        const headers = await this.opts.credentials.headers(backend, undefined);
        const bs = await this.openSession(backend, url, headers, deadline.signal);
        const ep = this.endpoint(bs, headers);
        try {
          const tools: ToolDefinition[] = [];
          let cursor: string | undefined;
          for (let page = 0; page < 1000; page++) {
            const result = await this.request(ep, 'tools/list', cursor === undefined ? {} : { cursor }, deadline.signal);
            if (!Array.isArray(result.tools)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'tools/list result has no "tools" array');
            for (const t of result.tools as ToolDefinition[]) if (t && typeof t.name === 'string' && t.inputSchema && typeof t.inputSchema === 'object') tools.push(t);
            cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
            if (cursor === undefined) break;
          }
          return tools;
        } finally {
          void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
        }
      });
    } finally {
      deadline.dispose();
    }
  }

  /** Forward a `tools/call` in the client's backend session and relay the backend's stream. */
  async *execute(call: ToolCall): AsyncGenerator<JsonRpcMessage> {
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
      for (;;) {
        if (!bs || !backend.urls.includes(bs.instance)) bs = await this.ensureSession(call, backend, headers, deadline.signal, bs ?? failed);
        call.onInstance?.(bs.instance);
        const ep = this.endpoint(bs, headers);
        const backendId = `gw-${this.nextId++}`;
        const message: JsonRpcRequest = { jsonrpc: '2.0', id: backendId, method: 'tools/call', params: { ...call.request.params, name: call.tool.upstreamName } };
        let reply: McpReply;
        try {
          reply = await postMessage(this.opts.dispatcher, ep, message, deadline.signal);
        } catch (err) {
          if (deadline.signal.aborted) throw err;
          pool.failed(bs.instance);
          if (!retried && (neverReachedBackend(err) || isRetrySafe(call.tool))) {
            retried = true;
            failed = bs;
            bs = undefined;
            continue;
          }
          return yield success(clientId, toolError('GW_UPSTREAM_UNAVAILABLE', `backend "${backend.name}" at ${ep.url}: ${describeNetworkError(err)}`));
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
          return yield success(clientId, toolError('GW_UPSTREAM_HTTP_ERROR', `HTTP ${reply.status} from backend "${backend.name}"${body ? `: ${body}` : ''}`));
        }
        yield* this.relay(reply, ep, backendId, clientId, deadline);
        return;
      }
    } catch (err) {
      const answer = failureAnswer(err, deadline, clientId, backend.name);
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
    return this.ensureSession(call, backend, headers, signal, bs);
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
  private ensureSession(call: ToolCall, backend: McpBackendConfig, headers: Record<string, string>, signal: AbortSignal, stale: BackendSession | undefined): Promise<BackendSession> {
    const key = `${call.session.id}\u0000${backend.name}\u0000${stale?.sessionId ?? ''}`;
    let opening = this.opening.get(key);
    if (!opening) {
      const pool = this.opts.pools.get(backend.name, backend.urls);
      opening = (async () => {
        const known = (await this.opts.sessions.current(call.session.id))?.backendSessions[backend.name];
        if (known && backend.urls.includes(known.instance) && known.sessionId !== stale?.sessionId) return known;
        const bs = await withFailover(pool, true, (url) => this.openSession(backend, url, headers, signal), () => signal.aborted);
        await this.opts.sessions.setBackendSession(call.session.id, backend.name, bs);
        return bs;
      })();
      this.opening.set(key, opening);
      void opening.catch(() => {}).finally(() => this.opening.delete(key));
    }
    return opening;
  }

  /** Relay a reply: notifications pass through, the response gets the client's id back. */
  private async *relay(reply: McpReply, ep: McpEndpoint, backendId: string, clientId: string | number, deadline: Deadline): AsyncGenerator<JsonRpcMessage> {
    let answered = false;
    try {
      for await (const m of replyMessages(reply)) {
        if (isResponse(m)) {
          if (m.id !== backendId) continue;
          answered = true;
          yield { ...m, id: clientId };
          return;
        }
        if (isRequest(m)) {
          // Server-to-client requests (sampling, elicitation) are not relayed yet; refuse so the backend does not wait.
          this.send(ep, { jsonrpc: '2.0', id: m.id, error: { code: -32601, message: `the gateway does not relay "${m.method}" yet` } });
          continue;
        }
        if (isNotification(m)) yield m;
      }
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'the backend closed the stream without answering');
    } finally {
      if (answered) finishReply(reply);
      else {
        reply.body.destroy();
        if (deadline.signal.aborted) this.cancel(ep, backendId, deadline.timedOut ? 'timeout' : 'cancelled by the client');
      }
    }
  }

  /** Close every backend session a client session holds (on DELETE or expiry). */
  async closeSessions(record: SessionRecord, backends: ReadonlyMap<string, BackendDescriptor>): Promise<void> {
    await Promise.all(
      Object.entries(record.backendSessions).map(async ([name, bs]) => {
        try {
          const backend = backends.get(name);
          const ep = this.endpoint(bs, backend ? await this.opts.credentials.headers(backend, undefined) : {});
          await deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(5_000));
        } catch (err) {
          this.opts.logger.debug({ backend: name, err: describeNetworkError(err) }, 'closing backend session failed');
        }
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

  private endpoint(bs: BackendSession, headers: Record<string, string>): McpEndpoint {
    return { url: bs.instance, sessionId: bs.sessionId, protocolVersion: bs.protocolVersion, headers };
  }

  /** The initialize handshake with one instance. */
  private async openSession(backend: McpBackendConfig, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<BackendSession> {
    const init: JsonRpcRequest = {
      jsonrpc: '2.0',
      id: `gw-${this.nextId++}`,
      method: 'initialize',
      params: { protocolVersion: LATEST_PROTOCOL_VERSION, capabilities: {}, clientInfo: this.opts.clientInfo },
    };
    const ep: McpEndpoint = { url, headers };
    const reply = await postMessage(this.opts.dispatcher, ep, init, signal);
    if (reply.status !== 200) {
      await reply.body.dump();
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" at ${url} answered initialize with HTTP ${reply.status}`);
    }
    const result = await this.resultOf(reply, init.id);
    const version = result.protocolVersion;
    if (typeof version !== 'string' || !isSupportedVersion(version)) {
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" negotiated unsupported protocol version ${String(version)}`);
    }
    const bs: BackendSession = { instance: url, sessionId: reply.sessionId ?? null, protocolVersion: version };
    const ack = await postMessage(this.opts.dispatcher, this.endpoint(bs, headers), { jsonrpc: '2.0', method: 'notifications/initialized' }, signal);
    await ack.body.dump();
    return bs;
  }

  /** A request/response exchange on a gateway-owned session (discovery). */
  private async request(ep: McpEndpoint, method: string, params: Record<string, unknown>, signal: AbortSignal): Promise<Record<string, unknown>> {
    const id = `gw-${this.nextId++}`;
    const reply = await postMessage(this.opts.dispatcher, ep, { jsonrpc: '2.0', id, method, params }, signal);
    if (reply.status !== 200) {
      await reply.body.dump();
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${method} answered HTTP ${reply.status}`);
    }
    return this.resultOf(reply, id);
  }

  private async resultOf(reply: McpReply, id: string | number): Promise<Record<string, unknown>> {
    for await (const m of replyMessages(reply)) {
      if (!isResponse(m) || m.id !== id) continue;
      finishReply(reply);
      if ('error' in m) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend error ${m.error.code}: ${m.error.message}`);
      return m.result;
    }
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'the backend closed the stream without answering');
  }
}
