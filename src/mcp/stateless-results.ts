/**
 * Results as a stateless (2026-07-28) client reads them: every result names its `resultType` and
 * the server (`_meta` serverInfo); lists, reads and discover say how long they may be cached and
 * by whom (`ttlMs`, `cacheScope`). Session-era clients never see any of this.
 */
import { META, RESULT_COMPLETE } from './era.js';
import { isObject, type JsonRpcResponse } from './jsonrpc.js';
import { createTaskResult } from './tasks-extension.js';

/** Who answers, as results name it. */
export interface ServerInfo {
  readonly name: string;
  readonly version: string;
  readonly title?: string;
}

/** How long a cacheable result stays fresh, and whether caches shared by several callers may keep it. */
export interface CacheHint {
  readonly ttlMs: number;
  readonly cacheScope: 'public' | 'private';
}

/** The code 2025 revisions used for an unknown resource, which 2026-07-28 replaced with -32602. */
const LEGACY_RESOURCE_NOT_FOUND = -32002;

/**
 * JSON-RPC errors the 2026-07-28 Streamable HTTP transport sends with 400 Bad Request: header
 * mismatch, missing required client capability, unsupported protocol version. A backend's own
 * answer passed through keeps that status too.
 */
const BAD_REQUEST_CODES: ReadonlySet<number> = new Set([-32020, -32021, -32022]);

/** The HTTP status of a stateless client's answer sent as JSON. */
export function statelessStatus(response: JsonRpcResponse): number {
  return 'error' in response && BAD_REQUEST_CODES.has(response.error.code) ? 400 : 200;
}

/**
 * A result with `resultType` (kept when the producer set one), serverInfo, and the cache hint when
 * given. A session-era backend's created task becomes the tasks extension's flat result.
 */
export function statelessResult(backendResult: Record<string, unknown>, server: ServerInfo, cache?: CacheHint): Record<string, unknown> {
  const result = createTaskResult(backendResult) ?? backendResult;
  const meta = isObject(result._meta) ? result._meta : {};
  return {
    ...result,
    resultType: typeof result.resultType === 'string' ? result.resultType : RESULT_COMPLETE,
    ...(cache ?? {}),
    _meta: { ...meta, [META.serverInfo]: server },
  };
}

/** A response for a stateless client: results shaped, and the retired resource-not-found code replaced. */
export function statelessResponse(response: JsonRpcResponse, server: ServerInfo, cache?: CacheHint): JsonRpcResponse {
  if ('result' in response) return { ...response, result: statelessResult(response.result, server, cache) };
  if (response.error.code !== LEGACY_RESOURCE_NOT_FOUND) return response;
  return { ...response, error: { ...response.error, code: -32602 } };
}

/**
 * The same for a result already serialised as a JSON object (the catalog's cached list pages):
 * the fields go in front, so the page's bytes are not parsed again.
 */
export function statelessResultJson(resultJson: Buffer, server: ServerInfo, cache?: CacheHint): Buffer[] {
  const head = JSON.stringify({ resultType: RESULT_COMPLETE, ...(cache ?? {}), _meta: { [META.serverInfo]: server } });
  // `{...head fields,` + the page without its `{`: a page always holds its list key, so it is never `{}`.
  return [Buffer.from(`${head.slice(0, -1)},`), resultJson.subarray(1)];
}
