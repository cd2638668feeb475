import { failure, type JsonRpcFailure, type JsonRpcId } from './mcp/jsonrpc.js';

/**
 * Where an error surfaces to the MCP client:
 * - `http`: the HTTP status carries it, with a JSON-RPC error body (transport-level problems);
 * - `jsonrpc`: HTTP 200 with a JSON-RPC error response (protocol errors on a valid request);
 * - `tool`: a successful JSON-RPC response whose tool result has `isError: true`, so the model can react.
 */
export type ErrorSurface = 'http' | 'jsonrpc' | 'tool';

export interface ErrorSpec {
  readonly status: number;
  readonly rpcCode: number;
  readonly surface: ErrorSurface;
  readonly message: string;
}

/** The one registry of gateway error codes. Every entry is documented in docs/errors.md (a test checks it). */
export const ERRORS = {
  GW_HOST_INVALID: { status: 400, rpcCode: -32000, surface: 'http', message: 'Bad Request: malformed Host header' },
  GW_HOST_NOT_ALLOWED: { status: 403, rpcCode: -32000, surface: 'http', message: 'Forbidden: Host not allowed' },
  GW_ORIGIN_NOT_ALLOWED: { status: 403, rpcCode: -32000, surface: 'http', message: 'Forbidden: Origin not allowed' },
  GW_NOT_ACCEPTABLE: { status: 406, rpcCode: -32000, surface: 'http', message: 'Not Acceptable' },
  GW_UNSUPPORTED_MEDIA_TYPE: { status: 415, rpcCode: -32000, surface: 'http', message: 'Unsupported Media Type: Content-Type must be application/json' },
  GW_PAYLOAD_TOO_LARGE: { status: 413, rpcCode: -32000, surface: 'http', message: 'Payload Too Large' },
  /** Produced by Envoy's rate limiters (envoy/envoy.yaml `local_reply_config`), not by gateway code. */
  GW_RATE_LIMITED: { status: 429, rpcCode: -32029, surface: 'http', message: 'Rate limit exceeded; retry later' },
  GW_NESTING_TOO_DEEP: { status: 400, rpcCode: -32600, surface: 'http', message: 'Bad Request: JSON nested too deeply' },
  /** A `<server.path>/<name>` path no virtual server has (docs/virtual-servers.md). */
  GW_UNKNOWN_VIRTUAL_SERVER: { status: 404, rpcCode: -32000, surface: 'http', message: 'Not Found: no virtual server of that name' },
  GW_METHOD_NOT_ALLOWED: { status: 405, rpcCode: -32000, surface: 'http', message: 'Method Not Allowed' },
  GW_UNSUPPORTED_PROTOCOL_VERSION: { status: 400, rpcCode: -32000, surface: 'http', message: 'Bad Request: unsupported MCP-Protocol-Version' },
  /** Stateless (2026-07-28) clients: the codes their transport specification assigns. */
  GW_HEADER_MISMATCH: { status: 400, rpcCode: -32020, surface: 'http', message: 'Header mismatch' },
  GW_UNSUPPORTED_REVISION: { status: 400, rpcCode: -32022, surface: 'http', message: 'Unsupported protocol version' },
  GW_META_INVALID: { status: 400, rpcCode: -32602, surface: 'http', message: 'Invalid params: the request _meta envelope' },
  GW_UNKNOWN_METHOD: { status: 404, rpcCode: -32601, surface: 'http', message: 'Method not found' },
  GW_CAPABILITY_REQUIRED: { status: 400, rpcCode: -32021, surface: 'http', message: 'Missing required client capability' },
  GW_TASKS_ANONYMOUS: { status: 403, rpcCode: -32000, surface: 'http', message: 'Forbidden: tasks are not served to anonymous stateless clients' },
  GW_REQUEST_STATE_INVALID: { status: 200, rpcCode: -32602, surface: 'jsonrpc', message: 'Invalid params: requestState' },
  GW_UNAUTHORIZED: { status: 401, rpcCode: -32000, surface: 'http', message: 'Unauthorized' },
  GW_INSUFFICIENT_SCOPE: { status: 403, rpcCode: -32000, surface: 'http', message: 'Forbidden: insufficient scope' },
  GW_AUTH_UNAVAILABLE: { status: 503, rpcCode: -32603, surface: 'http', message: 'Authentication unavailable: the token issuer cannot be reached; retry later' },
  GW_POLICY_DENIED: { status: 200, rpcCode: -32003, surface: 'jsonrpc', message: 'Denied by policy' },
  GW_POLICY_UNAVAILABLE: { status: 200, rpcCode: -32003, surface: 'jsonrpc', message: 'Denied: the policy engine could not decide' },
  GW_SESSION_REQUIRED: { status: 400, rpcCode: -32000, surface: 'http', message: 'Bad Request: Mcp-Session-Id header is required' },
  GW_SESSION_NOT_FOUND: { status: 404, rpcCode: -32001, surface: 'http', message: 'Session not found or expired; start a new session with initialize' },
  GW_TOO_MANY_SESSIONS: { status: 429, rpcCode: -32000, surface: 'http', message: 'Too many sessions for this caller; end one (DELETE) or let one expire' },
  GW_SESSION_CREATION_BUSY: { status: 429, rpcCode: -32000, surface: 'http', message: 'Too many sessions being created at once for this caller; retry shortly' },
  GW_TOO_MANY_STREAMS: { status: 429, rpcCode: -32000, surface: 'http', message: 'Too many open GET streams for this session; close one first' },
  GW_SESSION_STORE_UNAVAILABLE: { status: 503, rpcCode: -32603, surface: 'http', message: 'Session store unavailable; retry later' },
  GW_PARSE_ERROR: { status: 400, rpcCode: -32700, surface: 'http', message: 'Parse error' },
  GW_INVALID_REQUEST: { status: 400, rpcCode: -32600, surface: 'http', message: 'Invalid Request' },
  GW_METHOD_NOT_FOUND: { status: 200, rpcCode: -32601, surface: 'jsonrpc', message: 'Method not found' },
  GW_INVALID_PARAMS: { status: 200, rpcCode: -32602, surface: 'jsonrpc', message: 'Invalid params' },
  GW_UNKNOWN_TOOL: { status: 200, rpcCode: -32602, surface: 'jsonrpc', message: 'Unknown tool' },
  GW_UNKNOWN_PROMPT: { status: 200, rpcCode: -32602, surface: 'jsonrpc', message: 'Unknown prompt' },
  /** The MCP-recommended code for a URI no backend serves. */
  GW_RESOURCE_NOT_FOUND: { status: 200, rpcCode: -32002, surface: 'jsonrpc', message: 'Resource not found' },
  GW_UNAVAILABLE: { status: 503, rpcCode: -32603, surface: 'http', message: 'Gateway unavailable: no gateway replica could take the request; retry later' },
  GW_SHUTTING_DOWN: { status: 503, rpcCode: -32603, surface: 'http', message: 'The gateway is shutting down; retry on another instance' },
  GW_INTERNAL: { status: 500, rpcCode: -32603, surface: 'http', message: 'Internal error' },
  GW_ARGUMENTS_INVALID: { status: 200, rpcCode: 0, surface: 'tool', message: 'Arguments do not match the tool input schema' },
  GW_UPSTREAM_UNAVAILABLE: { status: 200, rpcCode: 0, surface: 'tool', message: 'No backend instance could be reached' },
  GW_UPSTREAM_TIMEOUT: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend did not answer in time' },
  GW_UPSTREAM_HTTP_ERROR: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend answered with an HTTP error' },
  GW_UPSTREAM_TOO_LARGE: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend answered with more than the gateway accepts for one call' },
  /** The backend's `maxConcurrentCalls` calls are open already (this process's, or Envoy's circuit breaker): the call was not sent. */
  GW_UPSTREAM_BUSY: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend has as many calls open as it takes at once; retry shortly' },
  GW_UPSTREAM_PROTOCOL: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend answered with something the gateway could not understand' },
  /** What a backend gets instead of its client's answer (server→client requests, docs/errors.md). */
  GW_RELAY_NOT_DECLARED: { status: 200, rpcCode: -32601, surface: 'jsonrpc', message: 'The client did not declare the capability this request needs' },
  GW_RELAY_TIMEOUT: { status: 200, rpcCode: -32001, surface: 'jsonrpc', message: 'The client did not answer in time' },
  GW_RELAY_NO_STREAM: { status: 200, rpcCode: -32000, surface: 'jsonrpc', message: 'The client has no stream open to receive this request' },
  GW_RELAY_CANCELLED: { status: 200, rpcCode: -32000, surface: 'jsonrpc', message: 'The call that caused this request ended before the client answered' },
  /** Admin endpoint of pinned definitions (docs/tool-pinning.md), not MCP traffic. */
  GW_APPROVAL_NOT_PENDING: { status: 404, rpcCode: -32000, surface: 'http', message: 'Nothing awaits approval under that key' },
  GW_APPROVAL_DIGEST_MISMATCH: { status: 409, rpcCode: -32000, surface: 'http', message: 'The definition changed since it was reviewed' },
  GW_APPROVAL_STORE_UNAVAILABLE: { status: 503, rpcCode: -32603, surface: 'http', message: 'The approval store cannot be written; retry later' },
  GW_UPSTREAM_ERA_UNSUPPORTED: { status: 200, rpcCode: 0, surface: 'tool', message: "The backend's MCP era has no such request" },
  GW_RELAY_CLIENT_ERROR: { status: 200, rpcCode: 0, surface: 'tool', message: "The client answered the backend's request with an error" },
  /** Human confirmation of a call a policy asked to confirm (docs/confirmation.md): the backend was not called. */
  GW_CONFIRMATION_DECLINED: { status: 200, rpcCode: 0, surface: 'tool', message: 'The user declined this call' },
  GW_CONFIRMATION_CANCELLED: { status: 200, rpcCode: 0, surface: 'tool', message: 'The user dismissed the confirmation without deciding' },
  GW_CONFIRMATION_TIMEOUT: { status: 200, rpcCode: 0, surface: 'tool', message: 'The user did not confirm this call in time' },
  GW_CONFIRMATION_UNAVAILABLE: { status: 200, rpcCode: 0, surface: 'tool', message: 'This call needs the user to confirm it, and the client cannot be asked' },
  GW_UPSTREAM_SESSION_LOST: { status: 200, rpcCode: 0, surface: 'tool', message: 'The backend lost the session this call was sent in' },
  /** Outbound token exchange (RFC 8693, docs/token-exchange.md): the identity provider said no for this caller and backend. */
  GW_TOKEN_EXCHANGE_REFUSED: { status: 200, rpcCode: 0, surface: 'tool', message: "The identity provider refused to exchange the caller's token for one of this backend" },
  GW_TOKEN_EXCHANGE_UNAVAILABLE: { status: 200, rpcCode: 0, surface: 'tool', message: "The caller's token could not be exchanged for one of this backend: the identity provider could not be asked" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** `_meta` key under which tool-error results carry the gateway error code (docs/errors.md promises it on every one). */
export const ERROR_META_KEY = 'io.github.mcp-gateway/error';

/** A registry code's message, with what happened after it when known. */
export function errorText(code: ErrorCode, detail: string | undefined): string {
  return detail ? `${ERRORS[code].message}: ${detail}` : ERRORS[code].message;
}

/**
 * A local error with a stable string code and the underlying cause.
 * Adapters turn it into the wire shape the registry names.
 */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  /** What happened, without the registry's generic message (which `message` starts with). */
  readonly detail: string | undefined;
  constructor(code: ErrorCode, detail?: string, options?: { cause?: unknown }) {
    super(errorText(code, detail), options);
    this.name = 'GatewayError';
    this.code = code;
    this.detail = detail;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }
}

/**
 * A failure of the client's request itself rather than of its backend (a stateless client was to be
 * asked for a capability it did not declare): it reaches the client as this JSON-RPC error, with
 * its `data`, whatever the method — never as a tool error the model would read.
 */
export class RequestRefused extends GatewayError {
  constructor(
    code: ErrorCode,
    detail: string,
    readonly data: Record<string, unknown>,
  ) {
    super(code, detail);
    this.name = 'RequestRefused';
  }
}

/**
 * The JSON-RPC error a request other than `tools/call` gets when its backend failed (a
 * `GW_UPSTREAM_…` code, which `tools/call` gets as a tool error): -32603 with the gateway code.
 */
export function upstreamFailure(code: ErrorCode, id: JsonRpcId, detail?: string): JsonRpcFailure {
  return failure(id, -32603, errorText(code, detail), { code });
}

/** The JSON-RPC error body for a registry code, keeping the request id when known. */
export function wireError(code: ErrorCode, id: JsonRpcId | null, detail?: string, data?: Record<string, unknown>): JsonRpcFailure {
  return failure(id, ERRORS[code].rpcCode, errorText(code, detail), { code, ...data });
}
