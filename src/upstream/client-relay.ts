import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Caller } from '../auth/caller.js';
import { catalogNameOf, type BackendDescriptor, type CatalogTool } from '../catalog/model.js';
import { ERRORS, RequestRefused, wireError, type ErrorCode } from '../errors.js';
import { missingCapability, requiredCapabilities } from '../mcp/client-capabilities.js';
import { eraOf } from '../mcp/era.js';
import { isObject, type JsonRpcId, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { RELAYED_NOTIFICATIONS } from '../mcp/methods.js';
import type { PolicyEngine } from '../policy/engine.js';
import { policySubject, relayPart } from '../policy/input.js';
import type { BackendSession, Handoff, PendingRelay, SessionRecord, SessionStore } from '../session/store.js';
import { sessionRef } from '../telemetry/audit.js';
import type { RelayFacts } from '../telemetry/telemetry.js';
import type { OutboundCredentials } from './credentials.js';
import { postMessage, type McpEndpoint } from './mcp-wire.js';

/** Where a backend's request to the client comes from: which client session, backend and backend session. */
export interface RelayOrigin {
  readonly session: SessionRecord;
  readonly backend: BackendDescriptor;
  /** The backend session that asked, and how to reach it (credentials included). */
  readonly via: BackendSession;
  readonly endpoint: McpEndpoint;
  /** The caller of the call that caused it; absent outside a call (policy then sees the session's principal). */
  readonly caller?: Caller;
  readonly sourceIp?: string | null;
  /**
   * The tool whose call caused it: audit records the name the client used (`name`), policy the
   * catalog name (`relay.tool`), as for the call itself on a virtual server that renamed it.
   */
  readonly tool?: Pick<CatalogTool, 'name' | 'catalogName'>;
  /** How long the client has to answer before the backend gets GW_RELAY_TIMEOUT. */
  readonly timeoutMs: number;
  /** The client reads only the call's final answer (no SSE, or a batch): it cannot be asked anything. */
  readonly answerOnly?: boolean;
  /**
   * Where the answer goes when no backend session waits for it: a stateless backend's input
   * request (MRTR), whose answers the gateway collects to retry the call with. Without it, answers
   * are POSTed to `endpoint`. Refusals, timeouts and the client's own answer all end up here.
   */
  readonly answer?: (response: JsonRpcResponse) => void;
}

/** Who would be asked, and on behalf of which call: what the checks of a backend's request need. */
export type RelayAsker = Pick<RelayOrigin, 'session' | 'backend' | 'caller' | 'sourceIp' | 'tool' | 'answerOnly'>;

/** Why a backend's request is not put to the client. */
export interface Refusal {
  readonly code: 'GW_RELAY_NOT_DECLARED' | 'GW_RELAY_NO_STREAM' | 'GW_POLICY_DENIED' | 'GW_POLICY_UNAVAILABLE';
  readonly reason: string | undefined;
}

export interface ClientRelayOptions {
  readonly sessions: SessionStore;
  readonly dispatcher: Dispatcher;
  readonly credentials: OutboundCredentials;
  readonly policy: PolicyEngine;
  /** The catalog's backends now (an answer landing on this instance is sent with the backend's credentials). */
  readonly backends: () => ReadonlyMap<string, BackendDescriptor>;
  /** Tell the client, on its GET stream (on whichever instance holds it), that a relayed request is off. */
  readonly notifyClient?: (sessionId: string, message: JsonRpcNotification) => void;
  readonly audit?: (facts: RelayFacts) => void;
  readonly logger: Logger;
}

/** A relay started on this instance: its timeout, and what the audit event needs when it ends here. */
interface Local {
  readonly origin: RelayOrigin;
  readonly method: string;
  readonly backendId: JsonRpcId;
  readonly timer: NodeJS.Timeout;
}

/** Why the gateway stops waiting for a client's answer (what the backend gets instead). */
type GiveUpCode = 'GW_RELAY_TIMEOUT' | 'GW_RELAY_CANCELLED' | 'GW_RELAY_NO_STREAM';

/** The `via.instance` of a question the gateway itself asks (no backend session waits for the answer). */
export const GATEWAY_ASKS = 'gateway:';

/** How long a handed-off answer outlives its relay's timeout (clock skew between instances). */
const HANDOFF_GRACE_MS = 5_000;

/** Ids the client sees for backend requests: random, so many backends and sessions never clash, and never guessable. */
const RELAY_ID_PREFIX = 'gw-relay-';

/**
 * The server→client half of MCP: a backend's `sampling/createMessage`, `elicitation/create` or
 * `roots/list` goes to the client the backend session serves under a gateway-chosen id, and the
 * client's answer goes back to the backend under the backend's id. The pending mapping lives in
 * the session record (memory or Hazelcast), so the answer may land on any gateway instance: each
 * can reach the backend session, which the record names too. An answer the gateway collects
 * itself (a stateless backend's input request, the gateway's own question) is handed through the
 * store to the instance running the call. A client that did not declare the
 * capability never gets the request, policy may refuse it (`kind: relay`), and the client has
 * the backend's timeout to answer; each relayed request is audited once (`mcp.relay`).
 */
export class ClientRelay {
  private readonly local = new Map<string, Local>();
  /** Relay id by origin session, backend and the backend's own id (to map the backend's cancellation). */
  private readonly byBackendId = new Map<string, string>();

  constructor(private readonly opts: ClientRelayOptions) {
    opts.sessions.onHandoff((sessionId, key, message) => this.handedOff(sessionId, key, message));
  }

  /** Whether an id the client answers or cancels is one of the gateway's relay ids. */
  static isRelayId(id: unknown): id is string {
    return typeof id === 'string' && id.startsWith(RELAY_ID_PREFIX);
  }

  /**
   * A backend asks the client something: the request as the client must see it (a gateway id),
   * or undefined when the gateway answered the backend itself (capability not declared, policy
   * refusal, or the store failed). A stateless client is not asked what it did not declare: the
   * backend is answered so, and its call ends with -32021 ({@link RequestRefused}), as the
   * 2026-07-28 revision asks of a server that would need an undeclared capability.
   */
  async toClient(origin: RelayOrigin, request: JsonRpcRequest): Promise<JsonRpcRequest | undefined> {
    const refusal = await this.screen(origin, request);
    if (refusal) {
      const byPolicy = refusal.code === 'GW_POLICY_DENIED' || refusal.code === 'GW_POLICY_UNAVAILABLE';
      this.answerBackend(origin, wireError(refusal.code, request.id, refusal.reason, byPolicy ? { reason: refusal.reason ?? null } : undefined));
      if (refusal.code === 'GW_RELAY_NOT_DECLARED' && eraOf(origin.session.protocolVersion) === 'stateless') {
        throw new RequestRefused('GW_CAPABILITY_REQUIRED', refusal.reason ?? request.method, { requiredCapabilities: requiredCapabilities(request) });
      }
      return undefined;
    }
    return this.register(origin, request);
  }

  /**
   * The gateway's own question to the client (a confirmation, src/confirm/): registered as a
   * relay, so the client's answer is taken from whichever POST carries it, times out as relays do,
   * and is audited as one; `origin.answer` gets the answer (or the gateway's GW_RELAY_… error).
   * No policy is asked: the policy is what asked. Undefined when the client did not declare the
   * capability, or the store failed (`origin.answer` is told).
   */
  async ask(origin: RelayOrigin & { readonly answer: (response: JsonRpcResponse) => void }, request: JsonRpcRequest): Promise<JsonRpcRequest | undefined> {
    if (missingCapability(origin.session.clientCapabilities, request)) return undefined;
    return this.register(origin, request);
  }

  /** Note a request to the client as pending (store and timer), under a fresh relay id. */
  private async register(origin: RelayOrigin, request: JsonRpcRequest): Promise<JsonRpcRequest | undefined> {
    const relayId = `${RELAY_ID_PREFIX}${randomBytes(12).toString('base64url')}`;
    const now = Date.now();
    const pending: PendingRelay = { backend: origin.backend.name, backendId: request.id, method: request.method, via: origin.via, tool: origin.tool?.name ?? null, askedAt: now, expiresAt: now + origin.timeoutMs };
    try {
      await this.opts.sessions.addRelay(origin.session.id, relayId, pending);
    } catch (err) {
      this.answerBackend(origin, wireError('GW_SESSION_STORE_UNAVAILABLE', request.id, (err as Error).message));
      return undefined;
    }
    const timer = setTimeout(() => void this.giveUp(relayId, 'GW_RELAY_TIMEOUT'), origin.timeoutMs);
    timer.unref();
    this.local.set(relayId, { origin, method: request.method, backendId: request.id, timer });
    this.byBackendId.set(backendKey(origin, request.id), relayId);
    return { ...request, id: relayId };
  }

  /**
   * Whether the client may be asked `request` at all: it declared the capability, it can be asked
   * during this call, and policy (`kind: relay`) allows it. A refusal is audited here; what the
   * backend or the client gets instead is the caller's to send.
   */
  async screen(asker: RelayAsker, request: JsonRpcRequest): Promise<Refusal | undefined> {
    const started = performance.now();
    const facts = { session: asker.session, caller: asker.caller, method: request.method, backend: asker.backend.name, tool: asker.tool?.name ?? null };
    const missing = missingCapability(asker.session.clientCapabilities, request);
    const refusal: Refusal | undefined = missing
      ? { code: 'GW_RELAY_NOT_DECLARED', reason: missing }
      : asker.answerOnly
        ? { code: 'GW_RELAY_NO_STREAM', reason: 'the client takes only the final answer of this call (no SSE, or a batch)' }
        : undefined;
    if (refusal) {
      this.opts.audit?.({ ...facts, relayId: null, outcome: 'refused', code: refusal.code, reason: refusal.reason, latencyMs: performance.now() - started });
      return refusal;
    }
    const verdict = await this.decide(asker, request);
    if (verdict.allow) return undefined;
    const code: ErrorCode = verdict.unavailable ? 'GW_POLICY_UNAVAILABLE' : 'GW_POLICY_DENIED';
    this.opts.audit?.({ ...facts, relayId: null, outcome: 'denied', code, reason: verdict.reason, latencyMs: performance.now() - started });
    return { code, reason: verdict.reason };
  }

  /**
   * A stateless backend's input request handed to a stateless client as it is (passed through,
   * under the backend's own key): audited once, as `passed`; the answer goes to the backend with
   * the client's retry, not through the gateway's relay.
   */
  passed(asker: RelayAsker, key: string, request: JsonRpcRequest): void {
    this.opts.audit?.({ session: asker.session, caller: asker.caller, relayId: key, method: request.method, backend: asker.backend.name, tool: asker.tool?.name ?? null, outcome: 'passed', latencyMs: 0 });
  }

  /**
   * The backend cancelled a request it relayed: the notification as the client must see it (the
   * id it knows), or undefined when it names nothing relayed (passed on unchanged by the caller).
   */
  async backendCancelled(origin: RelayOrigin, message: JsonRpcNotification): Promise<JsonRpcNotification | undefined> {
    const requestId = message.params?.requestId;
    if (typeof requestId !== 'string' && typeof requestId !== 'number') return undefined;
    const relayId = this.byBackendId.get(backendKey(origin, requestId));
    if (!relayId) return undefined;
    const taken = await this.take(origin.session.id, relayId);
    if (taken) this.end(origin.session, relayId, taken, 'cancelled', undefined);
    return { ...message, params: { ...message.params, requestId: relayId } };
  }

  /**
   * The client answered a relayed request: send the answer to the backend session that asked,
   * under the backend's id. False when no relay of this session has that id (unknown, answered,
   * timed out): the answer is dropped.
   */
  async fromClient(session: SessionRecord, response: JsonRpcResponse, caller: Caller | undefined): Promise<boolean> {
    if (!ClientRelay.isRelayId(response.id)) return false;
    const relayId = response.id;
    // Read before take() forgets it: a stateless backend's input request is answered here, not upstream.
    const collect = this.local.get(relayId)?.origin.answer;
    const pending = await this.take(session.id, relayId);
    if (!pending) {
      this.opts.logger.debug({ session: sessionRef(session.id), relay: relayId }, 'answer to no pending relay dropped');
      return false;
    }
    const outcome = 'error' in response ? 'client_error' : 'answered';
    const answer: JsonRpcResponse = 'error' in response ? { jsonrpc: '2.0', id: pending.backendId, error: response.error } : { jsonrpc: '2.0', id: pending.backendId, result: response.result };
    if (collect || eraOf(pending.via.protocolVersion) === 'stateless' || pending.via.instance === GATEWAY_ASKS) {
      // Only the instance running the call can use the answer (retry a stateless backend's call, go on after a confirmation).
      if (collect) collect(answer);
      else await this.handToCaller(session, relayId, pending, answer);
      this.end(session, relayId, pending, outcome, undefined, caller);
      return true;
    }
    const backend = this.opts.backends().get(pending.backend);
    const headers = backend ? await this.opts.credentials.headers(backend, caller) : {};
    const ep: McpEndpoint = { url: pending.via.instance, sessionId: pending.via.sessionId, protocolVersion: pending.via.protocolVersion, headers };
    await this.post(ep, answer);
    this.end(session, relayId, pending, outcome, undefined, caller);
    return true;
  }

  /**
   * The answer to a relay whose call runs on another instance: handed to it through the session
   * store, which tells every instance at once (`handedOff` there). Kept until the relay would
   * have timed out, so an instance that missed the event finds it when its store reconnects.
   */
  private async handToCaller(session: SessionRecord, relayId: string, pending: PendingRelay, answer: JsonRpcResponse): Promise<void> {
    try {
      await this.opts.sessions.handOff(session.id, relayId, answer as unknown as Handoff, Math.max(pending.expiresAt - Date.now(), 0) + HANDOFF_GRACE_MS);
    } catch (err) {
      // The call times out on its instance, as when the client never answers.
      this.opts.logger.warn({ session: sessionRef(session.id), relay: relayId, err: (err as Error).message }, 'answer to a relay of a call running on another gateway instance lost: the session store failed');
    }
  }

  /** A message handed off by some instance: the answer to a relay of a call running here, if it names one. */
  private handedOff(sessionId: string, relayId: string, message: Handoff): void {
    const l = this.local.get(relayId);
    if (!l?.origin.answer || l.origin.session.id !== sessionId) return;
    this.forget(relayId);
    l.origin.answer(message as unknown as JsonRpcResponse);
    void this.opts.sessions.takeHandoff(sessionId, relayId).catch(() => undefined);
  }

  /**
   * The call that caused these relays ended (answered, cancelled, timed out) while they wait for
   * the client: the backend gets `code` instead of an answer, and the client `notifications/cancelled`.
   */
  abandon(relayIds: Iterable<string>, code: GiveUpCode): void {
    for (const id of relayIds) if (this.local.has(id)) void this.giveUp(id, code);
  }

  /** Stop waiting for the client's answer, unless an instance got it first. */
  private async giveUp(relayId: string, code: GiveUpCode): Promise<void> {
    const l = this.local.get(relayId);
    if (!l) return;
    const { session } = l.origin;
    const pending = await this.take(session.id, relayId).catch(() => undefined);
    if (!pending) {
      // Another instance took the answer: it is on its way here (handedOff), or lost with that instance and the call's deadline ends it.
      this.forget(relayId);
      return;
    }
    this.answerBackend(l.origin, wireError(code, pending.backendId));
    if (code !== 'GW_RELAY_NO_STREAM') {
      const reason = code === 'GW_RELAY_TIMEOUT' ? 'timeout' : 'the call that caused it ended';
      this.opts.notifyClient?.(session.id, { jsonrpc: '2.0', method: RELAYED_NOTIFICATIONS.cancelled, params: { requestId: relayId, reason } });
    }
    this.end(session, relayId, pending, code === 'GW_RELAY_TIMEOUT' ? 'timeout' : 'cancelled', code);
  }

  /**
   * Remove the pending relay from the store (whoever gets it answers) and this instance's
   * bookkeeping: only once the store gave it to this session, so an answer under another
   * session's relay id cannot disarm that relay's timeout.
   */
  private async take(sessionId: string, relayId: string): Promise<PendingRelay | undefined> {
    const pending = await this.opts.sessions.takeRelay(sessionId, relayId);
    if (pending) this.forget(relayId);
    return pending;
  }

  /** Drop this instance's bookkeeping of a relay (its timer too). */
  private forget(relayId: string): void {
    const l = this.local.get(relayId);
    if (!l) return;
    clearTimeout(l.timer);
    this.local.delete(relayId);
    this.byBackendId.delete(backendKey(l.origin, l.backendId));
  }

  private end(session: SessionRecord, relayId: string, pending: PendingRelay, outcome: RelayFacts['outcome'], code: ErrorCode | undefined, caller?: Caller): void {
    this.opts.audit?.({
      session,
      caller,
      relayId,
      method: pending.method,
      backend: pending.backend,
      tool: pending.tool,
      outcome,
      code,
      reason: code ? ERRORS[code].message : undefined,
      latencyMs: Math.max(0, Date.now() - pending.askedAt),
    });
  }

  private decide(asker: RelayAsker, request: JsonRpcRequest): Promise<{ allow: boolean; reason?: string; unavailable?: boolean }> {
    const { policy } = this.opts;
    if (policy.allowsAll) return Promise.resolve({ allow: true });
    const caller = asker.caller ?? { principal: asker.session.principal, scopes: [], roles: [], claims: {} };
    const mode = request.method === 'elicitation/create' ? (isObject(request.params) && typeof request.params.mode === 'string' ? request.params.mode : 'form') : null;
    return policy.decide({ ...policySubject(caller, asker.session, asker.sourceIp ?? null), ...relayPart(asker.backend.name, request.method, asker.tool ? catalogNameOf(asker.tool) : null, mode) });
  }

  /** Answer the backend in the client's stead (or whoever collects its answers), without waiting; best effort. */
  private answerBackend(origin: RelayOrigin, answer: JsonRpcResponse): void {
    if (origin.answer) origin.answer(answer);
    else void this.post(origin.endpoint, answer);
  }

  private async post(ep: McpEndpoint, message: JsonRpcResponse): Promise<void> {
    try {
      const reply = await postMessage(this.opts.dispatcher, ep, message, AbortSignal.timeout(5_000));
      await reply.body.dump();
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'relaying an answer to the backend failed');
    }
  }
}

function backendKey(origin: RelayOrigin, backendId: JsonRpcId): string {
  return `${origin.session.id}\u0000${origin.backend.name}\u0000${typeof backendId}:${backendId}`;
}
