import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { wireError } from '../errors.js';
import { nestsDeeperThan } from '../mcp/json-depth.js';
import { batchOf, failure, isObject, isRequest, parseMessage, RpcCode, success, type JsonRpcId, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { describeMethod, describeMethodIn, type GatewayAnswer, type ListKind, type MethodSpec } from '../mcp/methods.js';
import { LOG_LEVELS } from '../mcp/log-level.js';
import { acceptsBatches, HEADER_PROTOCOL_VERSION, HEADER_SESSION_ID, isSupportedVersion, negotiateVersion } from '../mcp/protocol.js';
import { samePrincipal, type SessionRecord, type SessionStore } from '../session/store.js';
import { reject, type Decision, type GatewayRequest, type Refusal } from './decision.js';
import { accepts, isJsonContentType } from './media.js';
import { hostMatcher, hostRejection, type HostCheck } from './host.js';
import { originMatcher } from './origin.js';
import { toolCallDecision } from './tool-call.js';
import type { RequestContext } from './authorize.js';
import { completionDecision, promptDecision, resourceDecision, taskDecision, taskListDecision } from './routed.js';
import type { Authenticator } from '../auth/authenticator.js';
import type { Caller } from '../auth/caller.js';
import type { PolicyEngine } from '../policy/engine.js';
import type { ListVisibility } from '../policy/visibility.js';
import { DENIAL_CODES, type AdmissionObserver, type Trail } from './observer.js';
import { isStatelessRequest, StatelessAdmission, type StatelessOptions } from './stateless.js';
import { isHeldSessionId } from '../session/held.js';
import { readListenFilter } from '../mcp/listen-filter.js';
import { WHOLE_CATALOG, type VirtualServer, type VirtualServers } from '../catalog/virtual-servers.js';
import { endpointRefusal, unknownServer } from './virtual-server.js';

export interface AdmissionOptions {
  /** Host names the gateway answers to (already resolved: see `effectiveAllowedHosts`). */
  readonly allowedHosts: readonly string[];
  readonly allowedOrigins: readonly string[];
  readonly maxBodyBytes: number;
  /**
   * Whether the caller's listing shows a tool or prompt (the listings' cached decision); given
   * when `policy.hideUnlisted` is on: names it does not show are answered as unknown.
   */
  readonly listed?: ListVisibility['canUse'];
  /** Most bytes of `clientInfo` and `capabilities` (as JSON, together) a session keeps. */
  readonly maxClientInfoBytes: number;
  /** Most messages in one JSON-RPC batch (2025-03-26 sessions). */
  readonly maxBatchSize: number;
  /** Deepest nesting of objects and arrays a message may have. */
  readonly maxJsonDepth: number;
  readonly sessions: SessionStore;
  readonly catalog: () => CatalogSnapshot;
  readonly authenticator: Authenticator;
  readonly policy: PolicyEngine;
  /** Told of every denial (audit trail, metrics). */
  readonly observer?: AdmissionObserver;
  /** What stateless (2026-07-28) clients need: keys for their held records and `requestState`, and serverInfo; absent: only sessions are served. */
  readonly stateless?: Pick<StatelessOptions, 'keys' | 'serverInfo' | 'confirmations' | 'anonymousTasks'>;
  /** Endpoints `<server.path>/<name>` (src/catalog/virtual-servers.ts); absent: every request sees the whole catalog. */
  readonly virtualServers?: VirtualServers;
}

/**
 * What {@link Admission.screen} found in a request's headers: who is calling. Opaque to adapters,
 * which hand it back to {@link Admission.decide} with the same request's body.
 */
export interface Screened {
  readonly caller: Caller;
}

/** A request admission has read: who sent it, in which session (null before one exists). */
interface Admitted {
  readonly req: GatewayRequest;
  readonly caller: Caller;
  readonly message: JsonRpcRequest;
  readonly trail: Trail;
  readonly session: SessionRecord | null;
}

/**
 * The admission core: turns one request into a {@link Decision}. It knows MCP and the
 * gateway's rules, and nothing of HTTP servers or Envoy.
 */
export class Admission {
  private readonly originAllowed: (origin: string | undefined) => boolean;
  private readonly hostAllowed: (host: string | undefined) => HostCheck;

  private readonly stateless: StatelessAdmission | undefined;

  constructor(private readonly opts: AdmissionOptions) {
    this.originAllowed = originMatcher(opts.allowedOrigins);
    this.hostAllowed = hostMatcher(opts.allowedHosts);
    this.stateless = opts.stateless && new StatelessAdmission({ ...opts.stateless, sessions: opts.sessions, maxClientInfoBytes: opts.maxClientInfoBytes, catalog: (req) => this.catalogOf(req) });
  }

  /**
   * Decide one request. `screened`: what {@link screen} found for the same request's headers (an
   * adapter that sees the headers before the body), so those checks are not made twice.
   */
  async decide(req: GatewayRequest, screened?: Screened): Promise<Decision> {
    const trail: Trail = { startedAt: performance.now() };
    const decision = await this.route(req, trail, screened);
    if (this.opts.observer) this.observe(req, trail, decision, this.opts.observer);
    return decision;
  }

  /**
   * The checks the headers alone settle, made before the body is read: host, origin, HTTP
   * method, authentication, and a POST's media types. A refusal here is the one {@link decide}
   * would give (none of them knows the JSON-RPC id); otherwise the caller, for `decide`.
   */
  async screen(req: GatewayRequest): Promise<Refusal | Screened> {
    const trail: Trail = { startedAt: performance.now() };
    const checked = await this.checkHeaders(req, trail);
    if ('kind' in checked && this.opts.observer) this.observe(req, trail, checked, this.opts.observer);
    return checked;
  }

  /** Report a denial: a refusal admission marked as one, an HTTP-level denial, or any refusal of a method audited per call. */
  private observe(req: GatewayRequest, trail: Trail, d: Decision, observer: AdmissionObserver): void {
    if (trail.denied) {
      observer.denied({ code: trail.denied.code, status: d.kind === 'reject' ? d.status : 200, reason: trail.denied.reason, request: req, trail });
    } else if (d.kind === 'reject' && (DENIAL_CODES.has(d.code) || (trail.method !== undefined && describeMethod(trail.method)?.audit === 'call'))) {
      observer.denied({ code: d.code, status: d.status, reason: 'error' in d.body ? d.body.error.message : null, request: req, trail });
    }
  }

  private async route(req: GatewayRequest, trail: Trail, screened?: Screened): Promise<Decision> {
    const checked = screened ?? (await this.checkHeaders(req, trail));
    if ('kind' in checked) return checked;
    const caller = checked.caller;
    trail.caller = caller;
    if (req.method === 'POST') return this.post(req, caller, trail);
    if (req.method === 'DELETE') return this.withSession(req, caller, null, trail, (session) => ({ kind: 'end-session', session }));
    const lastEventId = req.headers['last-event-id'];
    return this.withSession(req, caller, null, trail, (session) => (lastEventId === undefined ? { kind: 'open-stream', session } : { kind: 'open-stream', session, lastEventId }));
  }

  private async checkHeaders(req: GatewayRequest, trail: Trail): Promise<Refusal | Screened> {
    const host = hostRejection(this.hostAllowed(req.headers.host), req.headers.host);
    if (host) return host;
    if (!this.originAllowed(req.headers.origin)) return reject('GW_ORIGIN_NOT_ALLOWED', null, `"${req.headers.origin}"`);
    if (req.method !== 'POST' && req.method !== 'GET' && req.method !== 'DELETE') {
      return reject('GW_METHOD_NOT_ALLOWED', null, `${req.method} is not supported`, { allow: 'GET, POST, DELETE' });
    }
    const server = this.serverOf(req);
    if (!server) return unknownServer(req);
    trail.virtualServer = server.name;
    // Stateless clients have no GET stream and no session to end (their transport asks for 405).
    if (req.method !== 'POST' && this.stateless && isStatelessRequest(req, undefined)) {
      return reject('GW_METHOD_NOT_ALLOWED', null, `${req.method} is not part of protocol version ${req.headers[HEADER_PROTOCOL_VERSION]}`, { allow: 'POST' });
    }
    const auth = await this.opts.authenticator.authenticate(req);
    if (!auth.ok) return reject(auth.code, null, auth.detail, auth.headers);
    trail.caller = auth.caller;
    const refused = endpointRefusal(server, auth.caller, req, this.opts.authenticator);
    if (refused) return refused;
    if (req.method === 'GET' && !accepts(req.headers.accept, 'text/event-stream')) return reject('GW_NOT_ACCEPTABLE', null, 'GET needs Accept: text/event-stream');
    if (req.method === 'POST') {
      if (!isJsonContentType(req.headers['content-type'])) return reject('GW_UNSUPPORTED_MEDIA_TYPE');
      const { accept } = req.headers;
      if (!accepts(accept, 'application/json') && !accepts(accept, 'text/event-stream')) {
        return reject('GW_NOT_ACCEPTABLE', null, 'POST needs Accept: application/json, text/event-stream');
      }
    }
    return { caller: auth.caller };
  }

  private async post(req: GatewayRequest, caller: Caller, trail: Trail): Promise<Decision> {
    const size = req.bodyBytes ?? Buffer.byteLength(req.body ?? '');
    if (size > this.opts.maxBodyBytes) return reject('GW_PAYLOAD_TOO_LARGE', null, `the limit is ${this.opts.maxBodyBytes} bytes`);
    if (nestsDeeperThan(req.body ?? '', this.opts.maxJsonDepth)) return reject('GW_NESTING_TOO_DEEP', null, `the limit is ${this.opts.maxJsonDepth} levels`);
    const batch = batchOf(req.body ?? '');
    if (batch) return this.batch(req, caller, trail, batch);
    const parsed = parseMessage(req.body ?? '');
    if (!parsed.ok) {
      const { id, error } = parsed.error;
      const code = error.code === RpcCode.ParseError ? 'GW_PARSE_ERROR' : 'GW_INVALID_REQUEST';
      // The parser knows JSON-RPC only; the gateway code goes in `data` as on every other HTTP error.
      return { kind: 'reject', code, status: 400, body: failure(id, error.code, error.message, { code }) };
    }
    const message = parsed.message;
    if (this.stateless && isStatelessRequest(req, message)) {
      if (isRequest(message)) {
        trail.method = message.method;
        trail.requestId = message.id;
      }
      // The held record is per caller, shared by every endpoint: the request's endpoint is laid over it like its _meta.
      const server = this.serverOf(req)?.name;
      return this.stateless.post(req, caller, trail, message, (spec, r) => this.dispatch(spec, server && r.session ? { ...r, session: { ...r.session, virtualServer: server } } : r));
    }
    if (!isRequest(message)) return this.withSession(req, caller, null, trail, (session) => ({ kind: 'accepted', session, message, caller }));
    trail.method = message.method;
    trail.requestId = message.id;
    const spec = describeMethodIn(message.method, 'session');
    if (spec && !spec.session) return this.dispatch(spec, { req, caller, message, trail, session: null });
    return this.withSession(req, caller, message.id, trail, (session) =>
      spec ? this.dispatch(spec, { req, caller, message, trail, session }) : { kind: 'respond', session, body: wireError('GW_METHOD_NOT_FOUND', message.id, `"${message.method}"`) },
    );
  }

  /**
   * A JSON-RPC batch: only a 2025-03-26 session may send one (others keep getting -32600, as the
   * later revisions removed batches). Each message is decided as if it came alone, so each is
   * authenticated, authorized and audited on its own; `initialize` and nested batches are refused.
   */
  private batch(req: GatewayRequest, caller: Caller, trail: Trail, items: readonly unknown[]): Promise<Decision> {
    const refused = (why: string): Decision => reject('GW_INVALID_REQUEST', null, why);
    if (req.headers[HEADER_SESSION_ID] === undefined) return Promise.resolve(refused('JSON-RPC batches are not supported; send one message per POST'));
    return this.withSession(req, caller, null, trail, async (session) => {
      if (!acceptsBatches(session.protocolVersion)) return refused(`JSON-RPC batches are not supported in protocol version ${session.protocolVersion}; send one message per POST`);
      if (items.length === 0) return refused('an empty batch');
      // Each message may cost a policy decision and a backend call: one request may not fan out without bound.
      if (items.length > this.opts.maxBatchSize) return refused(`a batch of ${items.length} messages; the limit is ${this.opts.maxBatchSize}`);
      const decisions = await Promise.all(
        items.map((m) => {
          const id = isObject(m) && (typeof m.id === 'string' || typeof m.id === 'number') ? m.id : null;
          if (!isObject(m)) return reject('GW_INVALID_REQUEST', null, 'a batch holds JSON-RPC messages');
          if (m.method === 'initialize') return reject('GW_INVALID_REQUEST', id, 'initialize must not be part of a batch');
          return this.decide({ ...req, body: JSON.stringify(m), bodyBytes: 0 });
        }),
      );
      // Batched calls answer in one JSON array: nothing else reaches the client during them.
      for (const [i, d] of decisions.entries()) if (d.kind === 'call-tool' || d.kind === 'forward') decisions[i] = { ...d, answerOnly: true };
      return { kind: 'batch', session, decisions };
    });
  }

  /** One handler per way of routing (src/mcp/methods.ts); no handler switches over method names. */
  private dispatch(spec: MethodSpec, r: Admitted): Decision | Promise<Decision> {
    const route = spec.route;
    switch (route.by) {
      case 'gateway':
        return this.answer(route.answer, r);
      case 'aggregate':
        return this.list(route.list, r);
      case 'tool-name':
        return toolCallDecision(this.context(spec, r));
      case 'resource-uri':
        return resourceDecision(this.context(spec, r));
      case 'prompt-name':
        return promptDecision(this.context(spec, r));
      case 'completion-ref':
        return completionDecision(this.context(spec, r));
      case 'task-id':
        return taskDecision(this.context(spec, r));
      case 'session-tasks':
        return taskListDecision(this.context(spec, r));
    }
  }

  /** The endpoint a request addresses: `/mcp`, or a virtual server; undefined for an unknown one. */
  private serverOf(req: GatewayRequest): VirtualServer | undefined {
    return this.opts.virtualServers ? this.opts.virtualServers.forUrl(req.url) : WHOLE_CATALOG;
  }

  /** The catalog as the request's endpoint shows it (names outside it are unknown there). */
  private catalogOf(req: GatewayRequest): CatalogSnapshot {
    return (this.serverOf(req) ?? WHOLE_CATALOG).view(this.opts.catalog());
  }

  /** How a request learns what the caller's listings show, when unlisted names are hidden. */
  private hiding(r: Admitted): Pick<RequestContext, 'canSee'> {
    const { listed } = this.opts;
    if (!listed || this.opts.policy.allowsAll) return {};
    const snapshot = this.catalogOf(r.req);
    return { canSee: (list, name) => listed(list, r.caller, r.session!, snapshot, r.req.remoteAddress ?? null, name) };
  }

  private context(spec: MethodSpec, r: Admitted): RequestContext {
    // Field by field rather than spread: this runs on every routed request.
    const { req, caller, message, trail } = r;
    const base = { req, caller, message, trail, session: r.session!, catalog: this.catalogOf(req), authenticator: this.opts.authenticator, policy: this.opts.policy, asksPolicy: spec.policy !== null };
    const { canSee } = this.hiding(r);
    return canSee ? { ...base, canSee } : base;
  }

  private answer(answer: GatewayAnswer, r: Admitted): Decision | Promise<Decision> {
    const { message } = r;
    const params = message.params ?? {};
    if (answer === 'discover') {
      const instructions = this.serverOf(r.req)?.instructions;
      return { kind: 'discover', message, caller: r.caller, ...(instructions === undefined ? {} : { instructions }) };
    }
    if (answer === 'listen') return this.listen(r);
    if (answer === 'initialize') {
      const requested = params.protocolVersion;
      if (typeof requested !== 'string') return reject('GW_INVALID_PARAMS', message.id, 'initialize needs params.protocolVersion');
      // What a session keeps of the client is bounded: it is held for the session's whole life.
      const kept = Buffer.byteLength(JSON.stringify(params.clientInfo ?? null)) + Buffer.byteLength(JSON.stringify(params.capabilities ?? null));
      if (kept > this.opts.maxClientInfoBytes) {
        return reject('GW_INVALID_PARAMS', message.id, `clientInfo and capabilities take ${kept} bytes; the limit is ${this.opts.maxClientInfoBytes}`);
      }
      const server = this.serverOf(r.req);
      return {
        kind: 'initialize',
        message,
        protocolVersion: negotiateVersion(requested),
        caller: r.caller,
        sourceIp: r.req.remoteAddress ?? null,
        ...(server?.name ? { virtualServer: server.name } : {}),
        ...(server?.instructions === undefined ? {} : { instructions: server.instructions }),
      };
    }
    const session = r.session!;
    if (answer === 'ping') return { kind: 'respond', session, body: success(message.id, {}) };
    const level = params.level;
    if (typeof level !== 'string' || !(LOG_LEVELS as readonly string[]).includes(level)) {
      return this.invalidParams(session, message.id, `"level" must be one of ${LOG_LEVELS.join(', ')}`);
    }
    return { kind: 'set-log-level', session, message, level };
  }

  /**
   * `subscriptions/listen`: the filter, and each resource subscription decided as the session era's
   * `resources/subscribe` of that URI (routing, scopes, policy); refused ones are not honoured.
   */
  private async listen(r: Admitted): Promise<Decision> {
    const session = r.session!;
    if (!accepts(r.req.headers.accept, 'text/event-stream')) return reject('GW_NOT_ACCEPTABLE', r.message.id, 'subscriptions/listen answers with an SSE stream');
    const read = readListenFilter(r.message.params?.notifications);
    if (!read.ok) return this.invalidParams(session, r.message.id, read.detail);
    const spec = describeMethod('resources/subscribe')!;
    const subscribe: Extract<Decision, { kind: 'forward' }>[] = [];
    for (const uri of read.filter.resourceSubscriptions ?? []) {
      const message: JsonRpcRequest = { jsonrpc: '2.0', id: r.message.id, method: spec.method, params: { uri } };
      const { trail: _own, ...rest } = this.context(spec, { ...r, message });
      const d = await resourceDecision(rest);
      if (d.kind === 'forward') subscribe.push(d);
    }
    return { kind: 'listen', session, message: r.message, filter: read.filter, subscribe };
  }

  private list(list: ListKind, r: Admitted): Decision {
    const session = r.session!;
    const cursor = r.message.params?.cursor;
    if (cursor !== undefined && typeof cursor !== 'string') return this.invalidParams(session, r.message.id, '"cursor" must be a string');
    return { kind: 'list', list, session, message: r.message, cursor, caller: r.caller, sourceIp: r.req.remoteAddress ?? null, catalog: this.catalogOf(r.req) };
  }

  private invalidParams(session: SessionRecord, id: JsonRpcId, detail: string): Decision {
    return { kind: 'respond', session, body: wireError('GW_INVALID_PARAMS', id, detail) };
  }

  /** Resolve the caller's session (header, protocol version, identity binding) before `next`. */
  private async withSession(
    req: GatewayRequest,
    caller: Caller,
    id: JsonRpcId | null,
    trail: Trail,
    next: (s: SessionRecord) => Decision | Promise<Decision>,
  ): Promise<Decision> {
    const version = req.headers[HEADER_PROTOCOL_VERSION];
    if (version !== undefined && !isSupportedVersion(version)) return reject('GW_UNSUPPORTED_PROTOCOL_VERSION', id, `"${version}"`);
    const sessionId = req.headers[HEADER_SESSION_ID];
    if (!sessionId) return reject('GW_SESSION_REQUIRED', id);
    trail.sessionId = sessionId;
    let session: SessionRecord | undefined;
    try {
      session = await this.opts.sessions.get(sessionId);
    } catch {
      return reject('GW_SESSION_STORE_UNAVAILABLE', id);
    }
    // A session presented by another identity, or on another endpoint, is indistinguishable from an
    // unknown one; so is a gateway-held record (src/session/held.ts), which stands for no client's session.
    if (!session || !samePrincipal(session.principal, caller.principal) || isHeldSessionId(session.id) || (session.virtualServer ?? null) !== (this.serverOf(req)?.name ?? null)) {
      return reject('GW_SESSION_NOT_FOUND', id);
    }
    trail.session = session;
    return next(session);
  }
}
