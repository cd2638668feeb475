/**
 * A stateless (2026-07-28) client's `tools/call` of a stateless-era backend, routed by the
 * transport straight to the backend (src/upstream/direct.ts): no backend session and no bridge,
 * only the tool's name in the backend's terms (body and `Mcp-Name`), the client's `_meta` as the
 * broker would pass it on, and the gateway's credentials. The backend validates the mirrored headers itself.
 */
import type { Decision } from '../admission/decision.js';
import type { McpBackendConfig } from '../config/schema.js';
import { HEADER_NAME, STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import { encodeHeaderValue } from '../mcp/header-values.js';
import type { JsonRpcRequest } from '../mcp/jsonrpc.js';
import { HEADER_PROTOCOL_VERSION } from '../mcp/protocol.js';
import type { McpEndpoint } from './mcp-wire.js';
import { statelessRequestMeta, type StatelessMeta } from './stateless-wire.js';

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/** Where a routed call goes, the headers it gets there, and the request as the backend must see it. */
export interface DirectTarget {
  readonly endpoint: McpEndpoint;
  readonly set: Readonly<Record<string, string>>;
  readonly message: JsonRpcRequest;
}

/**
 * The stateless call as its backend reads it. Admission took the stateless envelope off the
 * message (`withoutStatelessParams`); `meta` is what the broker's pass-through would tell the
 * backend of this client (McpBackends.clientMeta): its capabilities narrowed to what the gateway
 * relays, so a backend never starts what only the broker could carry (a task for a client that
 * declared the tasks extension). The endpoint is the backend's first URL: the transport picks the
 * instance, so only the path counts.
 */
export function statelessTarget(d: CallTool, backend: McpBackendConfig, headers: Readonly<Record<string, string>>, meta: StatelessMeta): DirectTarget {
  const name = d.tool.upstreamName;
  const params = d.message.params ?? {};
  const message = { ...d.message, params: { ...params, name, _meta: statelessRequestMeta(params._meta, meta) } };
  const set = { ...headers, [HEADER_PROTOCOL_VERSION]: STATELESS_PROTOCOL_VERSION, [HEADER_NAME]: encodeHeaderValue(name) };
  return { endpoint: { url: backend.urls[0]!, sessionId: null, protocolVersion: STATELESS_PROTOCOL_VERSION, headers }, set, message };
}

/** Whether every URL of a backend has the same path and query (the transport balances over them). */
export function samePath(urls: readonly string[]): boolean {
  // Asked on every routed call of the backend; its list of URLs changes only as a new array.
  let same = samePaths.get(urls);
  if (same === undefined) {
    same = new Set(urls.map((u) => { const url = new URL(u); return url.pathname + url.search; })).size <= 1;
    samePaths.set(urls, same);
  }
  return same;
}

const samePaths = new WeakMap<readonly string[], boolean>();
