/**
 * A stateless (2026-07-28) client's `tools/call` of a stateless-era backend, routed by the
 * transport straight to the backend (src/upstream/direct.ts): no backend session and no bridge,
 * only the tool's name in the backend's terms (body and `Mcp-Name`), the client's `_meta` as it
 * sent it, and the gateway's credentials. The backend validates the mirrored headers itself.
 */
import type { Decision } from '../admission/decision.js';
import type { McpBackendConfig } from '../config/schema.js';
import { HEADER_NAME, META, STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import { encodeHeaderValue } from '../mcp/header-values.js';
import { isObject, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { HEADER_PROTOCOL_VERSION } from '../mcp/protocol.js';
import type { SessionRecord } from '../session/store.js';
import type { McpEndpoint } from './mcp-wire.js';

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/** Where a routed call goes, the headers it gets there, and the request as the backend must see it. */
export interface DirectTarget {
  readonly endpoint: McpEndpoint;
  readonly set: Readonly<Record<string, string>>;
  readonly message: JsonRpcRequest;
}

/**
 * The stateless call as its backend reads it. Admission took the stateless envelope off the
 * message (`withoutStatelessParams`); the request's own `_meta` (version, capabilities, client
 * info, log level) is in the decision's held-record view and goes back as the client sent it.
 * The endpoint is the backend's first URL: the transport picks the instance, so only the path counts.
 */
export function statelessTarget(d: CallTool, backend: McpBackendConfig, headers: Readonly<Record<string, string>>): DirectTarget {
  const name = d.tool.upstreamName;
  const params = d.message.params ?? {};
  const message = { ...d.message, params: { ...params, name, _meta: requestMeta(params._meta, d.session) } };
  const set = { ...headers, [HEADER_PROTOCOL_VERSION]: STATELESS_PROTOCOL_VERSION, [HEADER_NAME]: encodeHeaderValue(name) };
  return { endpoint: { url: backend.urls[0]!, sessionId: null, protocolVersion: STATELESS_PROTOCOL_VERSION, headers }, set, message };
}

/** `_meta` with the request's envelope keys back over whatever else the client put there (a progressToken). */
function requestMeta(kept: unknown, view: SessionRecord): Record<string, unknown> {
  const meta: Record<string, unknown> = { ...(isObject(kept) ? kept : {}), [META.protocolVersion]: view.protocolVersion, [META.clientCapabilities]: view.clientCapabilities };
  if (view.clientInfo) meta[META.clientInfo] = view.clientInfo;
  if (view.logLevel !== undefined) meta[META.logLevel] = view.logLevel;
  return meta;
}

/** Whether every URL of a backend has the same path and query (the transport balances over them). */
export function samePath(urls: readonly string[]): boolean {
  const paths = new Set(urls.map((u) => { const url = new URL(u); return url.pathname + url.search; }));
  return paths.size <= 1;
}
