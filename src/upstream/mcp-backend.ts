import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import {
  isRetrySafe,
  type BackendDescriptor,
  type PromptDefinition,
  type Published,
  type ResourceDefinition,
  type ResourceTemplateDefinition,
  type ToolDefinition,
} from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError, upstreamFailure } from '../errors.js';
import { exposeResultUris } from '../catalog/uris.js';
import { isNotification, isObject, isRequest, isResponse, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { isSupportedVersion, LATEST_PROTOCOL_VERSION } from '../mcp/protocol.js';
import { LIST_CHANGED } from '../mcp/methods.js';
import type { BackendSession, SessionRecord, SessionStore } from '../session/store.js';
import type { RoutedCall, ToolCall, UpstreamCall } from './call.js';
import { Deadline } from './deadline.js';
import { asToolError, failureAnswer, type FailureShape } from './failure.js';
import { withFailover } from './failover.js';
import { deleteSession, finishReply, openStream, postMessage, replyMessages, type McpEndpoint, type McpReply } from './mcp-wire.js';
import { resumableMessages } from './resumed-reply.js';
import type { Pools } from './pool.js';
import type { OutboundCredentials } from './credentials.js';
import type { BackendStreams } from './backend-streams.js';
import { describeNetworkError, neverReachedBackend } from './transport.js';

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

  /**
   * Ask a backend for everything it publishes, in a short-lived discovery session: its tools, and
   * its resources, resource templates and prompts when its capabilities declare them.
   */
  async discover(backend: McpBackendConfig, signal: AbortSignal): Promise<Published> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const deadline = Deadline.under(signal, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    try {
      return await withFailover(pool, true, async (url) => {
        const headers = await this.opts.credentials.headers(backend, undefined);
        const { session: bs, capabilities } = await this.handshake(backend, url, headers, deadline.signal);
        const ep = this.endpoint(bs, headers);
        const list = <T>(method: string, key: string, valid: (x: Record<string, unknown>) => boolean): Promise<T[]> =>
          this.listAll<T>(ep, method, key, valid, deadline.signal);
        try {
          const has = (cap: string): boolean => isObject(capabilities[cap]);
          return {
            servesResources: has('resources'),
            // Only what the capabilities declare: a server without tools answers tools/list with -32601.
            tools: has('tools') ? await list<ToolDefinition>('tools/list', 'tools', (t) => typeof t.name === 'string' && isObject(t.inputSchema)) : [],
            resources: has('resources') ? await list<ResourceDefinition>('resources/list', 'resources', (r) => typeof r.uri === 'string' && typeof r.name === 'string') : [],
            resourceTemplates: has('resources')
              ? await list<ResourceTemplateDefinition>('resources/templates/list', 'resourceTemplates', (t) => typeof t.uriTemplate === 'string' && typeof t.name === 'string')
              : [],
            prompts: has('prompts') ? await list<PromptDefinition>('prompts/list', 'prompts', (p) => typeof p.name === 'string') : [],
          };
        } finally {
          void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
        }
      });
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Hold a gateway-owned session with the backend open and call `changed` for each list_changed
   * it sends on the session's GET stream (src/catalog/watchers.ts). `unsupported` when the backend
   * declares no list changes or offers no stream; `ended` when the stream ended.
   */
  async watchLists(backend: McpBackendConfig, changed: () => void, signal: AbortSignal): Promise<'unsupported' | 'ended'> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const headers = await this.opts.credentials.headers(backend, undefined);
    const opened = await withFailover(pool, true, (url) => this.handshake(backend, url, headers, AbortSignal.any([signal, AbortSignal.timeout(backend.timeoutMs ?? this.opts.defaultTimeoutMs)])));
    const ep = this.endpoint(opened.session, headers);
    try {
      const caps = opened.capabilities;
      const announces = ['tools', 'resources', 'prompts'].some((c) => isObject(caps[c]) && caps[c].listChanged === true);
      if (!announces || !ep.sessionId) return 'unsupported';
      const reply = await openStream(this.opts.dispatcher, ep, signal);
      if (reply.status !== 200 || reply.contentType !== 'text/event-stream') {
        await reply.body.dump();
        return 'unsupported';
      }
      for await (const m of replyMessages(reply)) if (isNotification(m) && LIST_CHANGED_METHODS.has(m.method)) changed();
      return 'ended';
    } finally {
      void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
    }
  }

  /** Every page of one of a backend's lists; malformed entries are skipped. */
  private async listAll<T>(ep: McpEndpoint, method: string, key: string, valid: (x: Record<string, unknown>) => boolean, signal: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await this.request(ep, method, cursor === undefined ? {} : { cursor }, signal);
      const items = result[key];
      if (!Array.isArray(items)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${method} result has no "${key}" array`);
      for (const x of items) if (isObject(x) && valid(x)) out.push(x as T);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return out;
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
   * With `follow`, a success has the backend session followed for what it sends unasked.
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
      for (;;) {
        if (!bs || !backend.urls.includes(bs.instance)) bs = await this.ensureSession(call.session, backend, headers, deadline.signal, bs ?? failed);
        call.onInstance?.(bs.instance);
        const ep = this.endpoint(bs, headers);
        const backendId = `gw-${this.nextId++}`;
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
          return yield fail('GW_UPSTREAM_UNAVAILABLE', `backend "${backend.name}" at ${ep.url}: ${describeNetworkError(err)}`);
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
        const onResult = follow ? () => this.opts.streams?.follow(call.session.id, backend.name, prefix, ep) : undefined;
        yield* this.relay(reply, ep, backendId, clientId, deadline, prefix, onResult);
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
        const bs = await withFailover(pool, true, (url) => this.openSession(backend, url, headers, signal), () => signal.aborted);
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
  private async *relay(reply: McpReply, ep: McpEndpoint, backendId: string, clientId: string | number, deadline: Deadline, prefix: string, onResult?: () => void): AsyncGenerator<JsonRpcMessage> {
    let answered = false;
    try {
      const resume = (lastEventId: string): Promise<McpReply> => openStream(this.opts.dispatcher, ep, deadline.signal, lastEventId);
      for await (const m of resumableMessages(reply, resume, deadline.signal)) {
        if (isResponse(m)) {
          if (m.id !== backendId) continue;
          answered = true;
          if ('result' in m) onResult?.();
          yield 'result' in m ? { ...m, id: clientId, result: exposeResultUris(prefix, m.result) } : { ...m, id: clientId };
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
    this.opts.streams?.close(record.id);
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
    return (await this.handshake(backend, url, headers, signal)).session;
  }

  /** The initialize handshake, and the capabilities the backend declared in it. */
  private async handshake(backend: McpBackendConfig, url: string, headers: Record<string, string>, signal: AbortSignal): Promise<{ session: BackendSession; capabilities: Record<string, unknown> }> {
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
    return { session: bs, capabilities: isObject(result.capabilities) ? result.capabilities : {} };
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

const LIST_CHANGED_METHODS: ReadonlySet<string> = new Set(Object.values(LIST_CHANGED));
