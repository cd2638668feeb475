import type { Dispatcher } from 'undici';
import { DISCOVER_METHOD, HEADER_METHOD, HEADER_NAME, META, STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import { encodeHeaderValue, nameHeaderSource, paramHeaderValues, type ParamHeader } from '../mcp/header-values.js';
import { isObject, isResponse, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { InstanceFailure } from './failover.js';
import { nextRequestId } from './mcp-handshake.js';
import { finishReply, postMessage, replyMessages, type McpEndpoint } from './mcp-wire.js';

/**
 * The gateway's requests to stateless-era (2026-07-28) backends: every request says who asks
 * in `params._meta` and mirrors its method, name and `x-mcp-header` arguments into headers,
 * as the Streamable HTTP binding requires; no session, no handshake.
 */

/** What a stateless request tells the backend about its client (`params._meta`). */
export interface StatelessMeta {
  /** What the gateway relays for this caller (sampling, elicitation, roots as it declared them). */
  readonly clientCapabilities: Readonly<Record<string, unknown>>;
  readonly clientInfo: { readonly name: string; readonly version: string };
  /** Only when the client asked for log messages: a backend sends none without it. */
  readonly logLevel?: string;
}

/** A request with its `_meta` (the client's own `_meta` keys, such as `progressToken`, kept). */
export function statelessRequest(method: string, params: Readonly<Record<string, unknown>>, meta: StatelessMeta): JsonRpcRequest {
  return { jsonrpc: '2.0', id: nextRequestId(), method, params: { ...params, _meta: statelessRequestMeta(params._meta, meta) } };
}

/**
 * A stateless request's `_meta`: the era's envelope keys from `meta` over whatever else the client
 * put there (a `progressToken`). Every way a stateless request reaches a backend (the broker's,
 * the transport's straight route) builds it here, so a backend hears the same of a client both ways.
 */
export function statelessRequestMeta(kept: unknown, meta: StatelessMeta): Record<string, unknown> {
  const _meta: Record<string, unknown> = {
    ...(isObject(kept) ? kept : {}),
    [META.protocolVersion]: STATELESS_PROTOCOL_VERSION,
    [META.clientCapabilities]: meta.clientCapabilities,
    [META.clientInfo]: meta.clientInfo,
  };
  if (meta.logLevel !== undefined) _meta[META.logLevel] = meta.logLevel;
  return _meta;
}

/**
 * Where to send `request` on one instance, with the headers that mirror its body:
 * `MCP-Protocol-Version` (from the endpoint's version), `Mcp-Method`, `Mcp-Name` when the method
 * names something, and `Mcp-Param-*` for the tool's `x-mcp-header` arguments.
 */
export function statelessEndpoint(url: string, headers: Readonly<Record<string, string>>, request: JsonRpcRequest, paramHeaders: readonly ParamHeader[] = []): McpEndpoint {
  const out: Record<string, string> = { ...headers, [HEADER_METHOD]: request.method };
  const name = nameHeaderSource(request.method, request.params);
  if (name !== undefined) out[HEADER_NAME] = encodeHeaderValue(name);
  if (request.method === 'tools/call' && paramHeaders.length > 0) Object.assign(out, paramHeaderValues(paramHeaders, request.params?.arguments));
  return { url, protocolVersion: STATELESS_PROTOCOL_VERSION, headers: out };
}

/** What the probe of one instance found: its era, and for a stateless one what `server/discover` said. */
export type EraProbe = { readonly era: 'session' } | { readonly era: 'stateless'; readonly capabilities: Record<string, unknown>; readonly ttlMs?: number };

/**
 * Ask one instance `server/discover` (versioning.mdx, "Backward Compatibility"): a result that
 * lists 2026-07-28 means the stateless era; any other answer (an HTTP 4xx, -32601, an error of a
 * server that wants `initialize` first) means the session era. A network failure or an HTTP 5xx
 * says nothing about the era: it is the instance's failure, for failover.
 */
export async function probeEra(dispatcher: Dispatcher, url: string, headers: Readonly<Record<string, string>>, clientInfo: StatelessMeta['clientInfo'], signal: AbortSignal): Promise<EraProbe> {
  const request = statelessRequest(DISCOVER_METHOD, {}, { clientCapabilities: {}, clientInfo });
  const reply = await postMessage(dispatcher, statelessEndpoint(url, headers, request), request, signal);
  if (reply.status >= 500) {
    await reply.body.dump();
    throw new InstanceFailure(`answered ${DISCOVER_METHOD} with HTTP ${reply.status}`, true);
  }
  const session = { era: 'session' } as const;
  if (reply.status !== 200) {
    await reply.body.dump();
    return session;
  }
  try {
    for await (const m of replyMessages(reply)) {
      if (!isResponse(m) || m.id !== request.id) continue;
      finishReply(reply);
      if (!('result' in m)) return session;
      const r = m.result;
      if (!Array.isArray(r.supportedVersions) || !r.supportedVersions.includes(STATELESS_PROTOCOL_VERSION)) return session;
      return { era: 'stateless', capabilities: isObject(r.capabilities) ? r.capabilities : {}, ...(typeof r.ttlMs === 'number' ? { ttlMs: r.ttlMs } : {}) };
    }
  } catch {
    // Not even JSON-RPC: a server of another kind, or of the session era answering its own way.
    // Its stream is abandoned, not left open: undici holds an abort listener on `signal` (a
    // long-lived one, such as a list watch's) until the body closes.
    reply.body.destroy();
  }
  return session;
}

/**
 * A stateless result as a session-era client reads it: without `resultType` (every result it gets
 * is complete) and without the backend's `serverInfo` (its server is the gateway).
 */
export function asSessionResult(result: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { resultType: _type, ...rest } = result;
  if (!isObject(rest._meta) || !(META.serverInfo in rest._meta)) return rest;
  const { [META.serverInfo]: _info, ...meta } = rest._meta;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : (({ _meta: _m, ...r }) => r)(rest);
}
