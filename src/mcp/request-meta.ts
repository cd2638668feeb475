/**
 * What a stateless (2026-07-28) request says about its client in `params._meta`: the protocol
 * revision it speaks, its capabilities, its name and version, and the least severe log level it
 * wants. It plays the part `initialize` played for a session, once per request.
 */
import { META } from './era.js';
import { isObject, type JsonRpcRequest } from './jsonrpc.js';
import { LOG_LEVELS } from './log-level.js';

export interface RequestMeta {
  readonly protocolVersion: string;
  readonly clientCapabilities: Record<string, unknown>;
  readonly clientInfo?: Record<string, unknown>;
  readonly logLevel?: string;
}

/** The reserved `_meta` keys, which a session-era backend never needs to see. */
const RESERVED_KEYS: ReadonlySet<string> = new Set([META.protocolVersion, META.clientCapabilities, META.clientInfo, META.logLevel]);

/** The protocol revision a request's body claims, if it claims one. */
export function claimedVersion(params: Record<string, unknown> | undefined): string | undefined {
  const meta = params?._meta;
  const v = isObject(meta) ? meta[META.protocolVersion] : undefined;
  return typeof v === 'string' ? v : undefined;
}

/**
 * The request's client description, or why it cannot be read: `protocolVersion` and
 * `clientCapabilities` are required (as the 2026-07-28 envelope asks), `clientInfo` must name
 * the client when present, `logLevel` must be a level. `maxBytes` bounds capabilities and client
 * info together, as a session's are bounded.
 */
export function readRequestMeta(message: JsonRpcRequest, maxBytes: number): { ok: true; meta: RequestMeta } | { ok: false; detail: string } {
  const meta = message.params?._meta;
  if (!isObject(meta)) return { ok: false, detail: `params._meta must carry "${META.protocolVersion}" and "${META.clientCapabilities}"` };
  const missing = [META.protocolVersion, META.clientCapabilities].filter((k) => meta[k] === undefined);
  if (missing.length > 0) return { ok: false, detail: `params._meta lacks ${missing.map((k) => `"${k}"`).join(' and ')}` };
  const version = meta[META.protocolVersion];
  const capabilities = meta[META.clientCapabilities];
  const info = meta[META.clientInfo];
  const level = meta[META.logLevel];
  if (typeof version !== 'string') return { ok: false, detail: `"${META.protocolVersion}" must be a string` };
  if (!isObject(capabilities)) return { ok: false, detail: `"${META.clientCapabilities}" must be an object` };
  if (info !== undefined && !(isObject(info) && typeof info.name === 'string' && typeof info.version === 'string')) {
    return { ok: false, detail: `"${META.clientInfo}" must be an object with string "name" and "version"` };
  }
  if (level !== undefined && !(LOG_LEVELS as readonly unknown[]).includes(level)) return { ok: false, detail: `"${META.logLevel}" must be one of ${LOG_LEVELS.join(', ')}` };
  const kept = Buffer.byteLength(JSON.stringify(capabilities)) + Buffer.byteLength(JSON.stringify(info ?? null));
  if (kept > maxBytes) return { ok: false, detail: `clientInfo and clientCapabilities take ${kept} bytes; the limit is ${maxBytes}` };
  return {
    ok: true,
    meta: { protocolVersion: version, clientCapabilities: capabilities, ...(info ? { clientInfo: info as Record<string, unknown> } : {}), ...(typeof level === 'string' ? { logLevel: level } : {}) },
  };
}

/**
 * The request as a session-era backend reads it: without the stateless envelope keys in `_meta`
 * (a `progressToken` and foreign keys stay) and without the MRTR retry fields, which concern
 * the gateway only.
 */
export function withoutStatelessParams(message: JsonRpcRequest): JsonRpcRequest {
  const params = message.params;
  if (!params) return message;
  const { _meta: meta, inputResponses: _answers, requestState: _state, ...rest } = params;
  const kept: Record<string, unknown> = {};
  if (isObject(meta)) for (const [k, v] of Object.entries(meta)) if (!RESERVED_KEYS.has(k)) kept[k] = v;
  return { ...message, params: Object.keys(kept).length > 0 ? { ...rest, _meta: kept } : rest };
}
