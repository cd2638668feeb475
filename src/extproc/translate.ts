/**
 * Translation between Envoy's ext_proc messages and the transport-neutral admission types.
 * The admission core never sees an Envoy type; this file is the one place both meet.
 */
import type { Decision, GatewayRequest } from '../admission/decision.js';
import { IDENTITY_PREFIX } from '../upstream/credentials.js';
import type { CommonResponse, HeaderMutation, HeaderValue, HeaderValueOption, HttpHeaders, ProcessingRequest, ProcessingResponse } from './messages.js';

/** Headers under this prefix are the gateway's own: a client never gets to set them. */
export const INTERNAL_HEADER_PREFIX = IDENTITY_PREFIX;

/** Names the upstream cluster; envoy.yaml routes with `cluster_header` on it. */
export const ROUTE_HEADER = `${INTERNAL_HEADER_PREFIX}route`;

/** The cluster of the broker (the standalone gateway server), which serves every forwarded request for now. */
export const BROKER_CLUSTER = 'broker';

/** The request headers Envoy sent, split into ordinary headers, pseudo-headers and client-supplied internal headers. */
export interface ReceivedHeaders {
  /** Lower-case names; repeated headers joined with ", ". */
  readonly headers: Record<string, string>;
  /** `:method`, `:path`, `:authority`, … */
  readonly pseudo: Record<string, string>;
  /** Names of `x-mcp-gateway-*` headers the client sent, to be removed. */
  readonly internal: string[];
}

export function readHeaders(h: HttpHeaders | undefined): ReceivedHeaders {
  const headers: Record<string, string> = {};
  const pseudo: Record<string, string> = {};
  const internal = new Set<string>();
  for (const entry of h?.headers?.headers ?? []) {
    const name = entry.key.toLowerCase();
    const value = headerValue(entry);
    if (name.startsWith(':')) pseudo[name] = value;
    else if (name.startsWith(INTERNAL_HEADER_PREFIX)) internal.add(name);
    else headers[name] = name in headers ? `${headers[name]}, ${value}` : value;
  }
  return { headers, pseudo, internal: [...internal] };
}

/** Envoy fills `raw_value` (bytes); older versions and hand-written tests use `value`. */
function headerValue(h: HeaderValue): string {
  return h.raw_value && h.raw_value.length > 0 ? h.raw_value.toString('latin1') : (h.value ?? '');
}

/** The admission core's view of one request. Internal headers are never passed on. */
export function toGatewayRequest(received: ReceivedHeaders, body: Buffer | undefined, remoteAddress: string | undefined): GatewayRequest {
  const { headers, pseudo } = received;
  const authority = pseudo[':authority'];
  return {
    method: pseudo[':method'] ?? 'GET',
    headers: authority !== undefined && headers.host === undefined ? { ...headers, host: authority } : headers,
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
    const raw = value?.stringValue ?? value?.string_value;
    if (raw) return raw.replace(/:\d+$/, '').replace(/^\[(.*)\]$/, '$1');
  }
  return undefined;
}

/** Drop every client-supplied internal header. */
export function stripInternal(internal: readonly string[]): HeaderMutation {
  return internal.length > 0 ? { remove_headers: [...internal] } : {};
}

/**
 * What Envoy should do with a decided request. `reject` and `respond` are answered by Envoy
 * itself; everything else continues to the broker, whose admission decides again (the broker is
 * the standalone server). Routing native-MCP calls straight to their backend comes with xDS.
 */
export function decisionMutation(
  decision: Decision,
  internal: readonly string[],
  extraHeaders: Record<string, string> = {},
): { immediate: ProcessingResponse } | { common: CommonResponse } {
  switch (decision.kind) {
    case 'reject':
      return { immediate: immediate(decision.status, decision.body, { ...extraHeaders, ...decision.headers }, decision.code) };
    case 'respond':
      return { immediate: immediate(200, decision.body, extraHeaders) };
    default:
      return { common: routeTo(BROKER_CLUSTER, internal) };
  }
}

/** Continue with the route header set (any client copy removed) and the route recomputed. */
export function routeTo(cluster: string, internal: readonly string[]): CommonResponse {
  const remove = internal.filter((n) => n !== ROUTE_HEADER);
  return {
    status: 'CONTINUE',
    header_mutation: { set_headers: [header(ROUTE_HEADER, cluster)], ...(remove.length > 0 ? { remove_headers: remove } : {}) },
    clear_route_cache: true,
  };
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

function header(key: string, value: string): HeaderValueOption {
  return { header: { key, raw_value: Buffer.from(value, 'latin1') }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' };
}
