/**
 * Translation between Envoy's ext_proc messages and the transport-neutral admission types.
 * The admission core never sees an Envoy type; this file is the one place both meet.
 */
import type { Decision, GatewayRequest } from '../admission/decision.js';
import { createHash } from 'node:crypto';
import { ANONYMOUS } from '../session/store.js';
import { IDENTITY_PREFIX } from '../upstream/credentials.js';
import { CLIENT_ONLY_HEADERS, type DirectCallPlan } from '../upstream/direct.js';
import { OVERFLOW, type AnswerStatus, type FailureFacts } from '../upstream/direct-failures.js';
import type { CommonResponse, HeaderMutation, HeaderValue, HeaderValueOption, HttpHeaders, MetadataStruct, ProcessingRequest, ProcessingResponse } from './messages.js';
import { hostPort, unbracket } from '../net.js';
import { memoize } from '../memo.js';

/** Headers under this prefix are the gateway's own: a client never gets to set them. */
export const INTERNAL_HEADER_PREFIX = IDENTITY_PREFIX;

/** Names the upstream cluster; envoy.yaml routes with `cluster_header` on it. */
export const ROUTE_HEADER = `${INTERNAL_HEADER_PREFIX}route`;

/** The cluster of the broker (the gateway's MCP server for everything not routed to a backend). */
export const BROKER_CLUSTER = 'broker';

/** Picks the route (envoy.yaml): `safe` retries on another host after a reset too, `unsent-only` only when nothing was sent. */
export const RETRY_HEADER = `${INTERNAL_HEADER_PREFIX}retry`;

/** Who is calling, for envoy.yaml's per-principal rate limit: a digest, never the identity itself. */
export const PRINCIPAL_HEADER = `${INTERNAL_HEADER_PREFIX}principal`;

/** The tool of a `tools/call`, for envoy.yaml's per-tool rate limits. */
export const TOOL_HEADER = `${INTERNAL_HEADER_PREFIX}tool`;

/** The request's JSON-RPC id as JSON, so Envoy's own 429 answer carries it (envoy.yaml `local_reply_config`). */
export const RPC_ID_HEADER = `${INTERNAL_HEADER_PREFIX}rpc-id`;

/** Set by envoy.yaml's rate limiters on their 429: the answer is Envoy's, not a backend's. */
export const RATE_LIMITED_HEADER = `${INTERNAL_HEADER_PREFIX}rate-limited`;

/**
 * Set by envoy.yaml (after removing any client copy) where ext_proc's processing mode streams the
 * body without waiting for the answer to the headers (`send_body_without_waiting_for_header_response`):
 * the headers' answer may then wait for the body, so routing decided from the body costs one
 * round trip instead of two. Without it, the processor answers each phase as it comes.
 */
export const PIPELINED_HEADER = `${INTERNAL_HEADER_PREFIX}extproc-pipelined`;

/**
 * Names a routed call whose failing answer envoy.yaml's `mcp.failed_answers` shows ext_proc apart
 * (its backend routes put it on the answer, from {@link answerMetadata}); only a failing answer is seen. Its value also
 * carries what a replica that did not route the call needs to answer it (with the JSON-RPC id,
 * {@link RPC_ID_HEADER}): `<call id>;<budget ms>;<flags>;<backend>`, the flags `p` when its backend
 * session is pinned and `s` for a 2026-07-28 client's call (a backend's name holds no `;`). One
 * header, so Envoy copies and strips one.
 */
export const CALL_HEADER = `${INTERNAL_HEADER_PREFIX}call`;

/**
 * The dynamic-metadata namespace ext_proc writes what a routed call's answer gets (envoy.yaml's
 * `metadata_options.receiving_namespaces` accepts it; its backend routes copy each value onto the
 * answer with `%DYNAMIC_METADATA(mcp.gateway:<key>)%`). Metadata, not request headers: the backend
 * routes remove the gateway's request headers before the backend sees them, and a header removed
 * there can no longer be copied onto the answer.
 */
export const ANSWER_METADATA_NAMESPACE = 'mcp.gateway';

/** The CORS headers a routed call's answer gets, by their metadata key; none for other origins. */
const CORS_ANSWER_KEYS: Readonly<Record<string, string>> = {
  'access-control-allow-origin': 'cors_origin',
  'access-control-expose-headers': 'cors_expose',
  vary: 'cors_vary',
};

/**
 * What a call routed straight to a backend carries for Envoy's backend routes to put on its answer,
 * in the pipelined mode where ext_proc does not see that answer: the CORS headers, and the call's
 * name ({@link CALL_HEADER}, `call`) with its JSON-RPC id ({@link RPC_ID_HEADER}, `rpc_id`) when its
 * failing answer is to be shown to ext_proc. Undefined when there is nothing to carry.
 */
export function answerMetadata(cors: Readonly<Record<string, string>>, call?: { readonly id: string; readonly plan: DirectCallPlan }, rpcId?: string): MetadataStruct | undefined {
  const fields: Record<string, { stringValue: string }> = {};
  for (const [name, value] of Object.entries(cors)) {
    const key = CORS_ANSWER_KEYS[name];
    if (key) fields[key] = { stringValue: value };
  }
  if (call) fields.call = { stringValue: `${call.id};${call.plan.budgetMs};${call.plan.pinned ? 'p' : ''}${call.plan.stateless ? 's' : ''};${call.plan.backend}` };
  if (call && rpcId !== undefined) fields.rpc_id = { stringValue: rpcId };
  return Object.keys(fields).length > 0 ? { fields: { [ANSWER_METADATA_NAMESPACE]: { structValue: { fields } } } } : undefined;
}

/**
 * The call a failing answer shown apart names ({@link CALL_HEADER}), and what it says of the call
 * for a replica that did not route it (undefined facts when the answer lacks them).
 */
export function failedCallOf(h: HttpHeaders | undefined): { id: string; facts: FailureFacts | undefined } | undefined {
  const value = headerOf(h, CALL_HEADER);
  if (!value) return undefined;
  const [id, budget, flags = '', backend] = value.split(';');
  if (!id) return undefined;
  const budgetMs = Number(budget);
  const rpcId = headerOf(h, RPC_ID_HEADER);
  let requestId: unknown;
  try {
    requestId = rpcId === undefined ? undefined : JSON.parse(rpcId);
  } catch {
    requestId = undefined;
  }
  const known = backend && Number.isFinite(budgetMs) && (typeof requestId === 'string' || typeof requestId === 'number');
  return { id, facts: known ? { requestId: requestId as string | number, backend, budgetMs, pinned: flags.includes('p'), stateless: flags.includes('s') } : undefined };
}

/** Base64 of the `ip:port` holding a backend session; envoy.yaml's stateful session filter routes to it. */
export const UPSTREAM_HOST_HEADER = `${INTERNAL_HEADER_PREFIX}upstream-host`;

/** The request headers Envoy sent, split into ordinary headers, pseudo-headers and client-supplied internal headers. */
export interface ReceivedHeaders {
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  /** `:method`, `:path`, `:authority`, … */
  readonly pseudo: Record<string, string>;
  /** Names of `x-mcp-gateway-*` headers the client sent, to be removed. */
  readonly internal: string[];
  /** `headers` with `host` taken from `:authority` when the request has none (HTTP/2): what admission reads. */
  readonly withHost: Record<string, string>;
}

export function readHeaders(h: HttpHeaders | undefined): ReceivedHeaders {
  const headers: Record<string, string> = {};
  const pseudo: Record<string, string> = {};
  const internal: string[] = [];
  for (const entry of h?.headers?.headers ?? []) {
    const name = entry.key.toLowerCase();
    const value = headerValue(entry);
    if (name.startsWith(':')) pseudo[name] = value;
    else if (name.startsWith(INTERNAL_HEADER_PREFIX)) {
      if (!internal.includes(name)) internal.push(name);
    } else headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  const authority = pseudo[':authority'];
  // HTTP/2 has no Host: admission reads it from :authority. Made here once for both phases.
  const withHost = authority !== undefined && headers.host === undefined ? { ...headers, host: authority } : headers;
  return { headers, pseudo, internal, withHost };
}

/**
 * A routed call's answer status, Envoy's circuit-breaker refusal told apart: the router's own 503
 * when the backend's cluster has `max_requests` calls open (src/xds/resources.ts) carries
 * `x-envoy-overloaded` (flag UO). A backend's own sidecar overflowing says the same, and means the same.
 */
export function answerStatus(answered: ReceivedHeaders): AnswerStatus {
  const status = Number(answered.pseudo[':status']) || undefined;
  return status === 503 && answered.headers['x-envoy-overloaded'] === 'true' ? OVERFLOW : status;
}

/** One header's value, internal ones included ({@link readHeaders} keeps only their names). */
export function headerOf(h: HttpHeaders | undefined, name: string): string | undefined {
  const entry = h?.headers?.headers?.find((e) => e.key.toLowerCase() === name);
  return entry ? headerValue(entry) : undefined;
}

/** Envoy fills `raw_value` (bytes); older versions and hand-written tests use `value`. */
function headerValue(h: HeaderValue): string {
  return h.raw_value && h.raw_value.length > 0 ? h.raw_value.toString('latin1') : (h.value ?? '');
}

/** The admission core's view of one request. Internal headers are never passed on. */
export function toGatewayRequest(received: ReceivedHeaders, body: Buffer | undefined, remoteAddress: string | undefined): GatewayRequest {
  const { pseudo } = received;
  return {
    method: pseudo[':method'] ?? 'GET',
    headers: received.withHost,
    url: pseudo[':path'] ?? '/',
    ...(remoteAddress ? { remoteAddress } : {}),
    ...(body === undefined ? {} : { body: body.toString('utf8'), bodyBytes: body.length }),
  };
}

/**
 * The peer address from the `source.address` attribute (`request_attributes` in envoy.yaml),
 * as "ip:port"; only the ip is kept.
 */
export function sourceAddress(req: ProcessingRequest): string | undefined {
  for (const struct of Object.values(req.attributes ?? {})) {
    const value = struct.fields?.['source.address'];
    const raw = value?.stringValue;
    if (raw) return unbracket(raw.replace(/:\d+$/, ''));
  }
  return undefined;
}

/** Drop every client-supplied internal header. */
export function stripInternal(internal: readonly string[]): HeaderMutation {
  return internal.length > 0 ? { remove_headers: [...internal] } : {};
}

/**
 * Envoy's own answer to a request admission refused (`reject`) or answered (`respond`): nothing
 * reaches an upstream. Everything else continues ({@link routeTo}, {@link directRoute}).
 */
export function answer(decision: Extract<Decision, { kind: 'reject' | 'respond' }>, extraHeaders: Record<string, string> = {}): ProcessingResponse {
  return decision.kind === 'reject'
    ? immediate(decision.status, decision.body, { ...extraHeaders, ...decision.headers }, decision.code)
    : immediate(200, decision.body, extraHeaders);
}

/**
 * The headers envoy.yaml's rate limiters read after ext_proc: the principal (a digest of issuer
 * and subject; anonymous callers by their address), the tool of a call, and the JSON-RPC id.
 */
export function rateLimitHeaders(decision: Decision, remoteAddress: string | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const principal = 'caller' in decision && decision.caller ? decision.caller.principal : 'session' in decision ? decision.session.principal : undefined;
  if (principal) {
    const key = principal.issuer === null && principal.subject === ANONYMOUS.subject ? `anonymous\u0000${remoteAddress ?? ''}` : `${principal.issuer ?? ''}\u0000${principal.subject}`;
    out[PRINCIPAL_HEADER] = principalDigest(key);
  }
  if (decision.kind === 'call-tool') out[TOOL_HEADER] = decision.tool.name;
  const message = 'message' in decision ? decision.message : undefined;
  if (message && 'id' in message && message.id !== undefined) out[RPC_ID_HEADER] = asciiJson(message.id);
  return out;
}

/** The rate-limit key of a caller: the same few callers come back on every call, so the digest is kept. */
const principalDigest = memoize((key: string) => createHash('sha256').update(key).digest('base64url').slice(0, 22));

/** JSON with every non-ASCII character escaped: a header value Envoy copies into a JSON body as is. */
function asciiJson(v: unknown): string {
  return JSON.stringify(v).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Continue with the route header (and `extra` gateway headers) set, any client copy removed, and the route recomputed. */
export function routeTo(cluster: string, internal: readonly string[], extra: Record<string, string> = {}): CommonResponse {
  return continueWith({ [ROUTE_HEADER]: cluster, ...extra }, internal);
}

/**
 * A native MCP call sent straight to its backend's cluster: the backend's tool name in the body
 * (with its length), the backend session's id and protocol version, the gateway's credentials
 * instead of the client's token; pinned to the instance holding the session (Envoy's stateful
 * session filter reads {@link UPSTREAM_HOST_HEADER}); retried on another instance only when the
 * request never reached one, or the tool is safe to run twice ({@link RETRY_HEADER}).
 */
export function directRoute(plan: DirectCallPlan, cluster: string, internal: readonly string[], gatewayHeaders: Record<string, string> = {}): CommonResponse & { body_mutation: { body: Buffer } } {
  const set: Record<string, string> = {
    [ROUTE_HEADER]: cluster,
    ...gatewayHeaders,
    ...plan.headers,
    ':path': plan.path,
    'content-length': String(plan.body.length),
    [RETRY_HEADER]: plan.retrySafe ? 'safe' : 'unsent-only',
    // The call's budget: Envoy's router ends the exchange then, as the broker would (504 before
    // the answer started, which settles as a timeout; a cut stream after).
    'x-envoy-upstream-rq-timeout-ms': String(plan.timeoutMs),
  };
  if (plan.pinned) set[UPSTREAM_HOST_HEADER] = pinnedHost(hostPort(plan.address.host, plan.address.port));
  return { ...continueWith(set, internal, CLIENT_ONLY_HEADERS), body_mutation: { body: plan.body } };
}

/** The stateful session filter's value for an instance: the same few instances come back on every pinned call. */
const pinnedHost = memoize((hostAndPort: string) => Buffer.from(hostAndPort).toString('base64'), 1_000);

/**
 * Continue with `set` set and every name of `remove` that `set` does not set removed, the route
 * recomputed. On every routed call: built in one pass, without intermediate lists.
 */
function continueWith(set: Record<string, string>, ...remove: ReadonlyArray<readonly string[]>): CommonResponse {
  const setHeaders: HeaderValueOption[] = [];
  for (const k in set) setHeaders.push(header(k, set[k]!));
  const removed: string[] = [];
  for (const list of remove) for (const n of list) if (!(n in set)) removed.push(n);
  return {
    status: 'CONTINUE',
    header_mutation: { set_headers: setHeaders, ...(removed.length > 0 ? { remove_headers: removed } : {}) },
    clear_route_cache: true,
  };
}

/** Let an answer through with headers set (CORS) and removed (the backend's own session id). */
export function passResponse(set: Record<string, string>, remove: readonly string[]): ProcessingResponse {
  return { response_headers: { response: { status: 'CONTINUE', header_mutation: { set_headers: Object.entries(set).map(([k, v]) => header(k, v)), remove_headers: [...remove] } } } };
}

/** An answer from Envoy with a JSON body; nothing reaches an upstream. */
export function immediate(status: number, body: unknown, headers: Record<string, string> = {}, details?: string): ProcessingResponse {
  const set = [header('content-type', 'application/json'), ...Object.entries(headers).map(([k, v]) => header(k, v))];
  return {
    immediate_response: {
      status: { code: status },
      headers: { set_headers: set },
      body: Buffer.from(JSON.stringify(body)),
      ...(details ? { details: `mcp_gateway_${details.toLowerCase()}` } : {}),
    },
  };
}

/** 202 with no body: the answer to a request the client cancelled before it went anywhere. */
export function noAnswer(headers: Record<string, string> = {}): ProcessingResponse {
  return { immediate_response: { status: { code: 202 }, headers: { set_headers: Object.entries(headers).map(([k, v]) => header(k, v)) }, body: Buffer.alloc(0) } };
}

function header(key: string, value: string): HeaderValueOption {
  return { header: { key, raw_value: Buffer.from(value, 'latin1') }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}
