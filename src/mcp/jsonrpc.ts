/** JSON-RPC 2.0 message model as MCP uses it (single messages; batches are rejected by the caller). */

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown>;
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: Record<string, unknown>;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  id: JsonRpcId | null;
  error: JsonRpcErrorObject;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** Standard JSON-RPC error codes used on the wire. */
export const RpcCode = {
  ParseError: -32700,
  InvalidRequest: -32600,
  MethodNotFound: -32601,
  InvalidParams: -32602,
  InternalError: -32603,
} as const;

export function isRequest(m: JsonRpcMessage): m is JsonRpcRequest {
  return 'method' in m && 'id' in m;
}

export function isNotification(m: JsonRpcMessage): m is JsonRpcNotification {
  return 'method' in m && !('id' in m);
}

export function isResponse(m: JsonRpcMessage): m is JsonRpcResponse {
  return !('method' in m) && ('result' in m || 'error' in m);
}

export function success(id: JsonRpcId, result: Record<string, unknown>): JsonRpcSuccess {
  return { jsonrpc: '2.0', id, result };
}

export function failure(id: JsonRpcId | null, code: number, message: string, data?: unknown): JsonRpcFailure {
  const error: JsonRpcErrorObject = data === undefined ? { code, message } : { code, message, data };
  return { jsonrpc: '2.0', id, error };
}

/** Outcome of {@link parseMessage}: a valid message, or a wire error with whatever id could be recovered. */
export type ParseResult =
  | { ok: true; message: JsonRpcMessage }
  | { ok: false; error: JsonRpcFailure };

function isId(v: unknown): v is JsonRpcId {
  return typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/** A JSON object (not null, not an array). */
export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Parse and validate one JSON-RPC message from a request body.
 * Errors keep the request id when the body carried a usable one, so clients can correlate them.
 */
export function parseMessage(body: string): ParseResult {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    return { ok: false, error: failure(null, RpcCode.ParseError, 'Parse error: body is not valid JSON') };
  }
  return validateMessage(value);
}

/**
 * The messages of a body that is a JSON-RPC batch (a JSON array), or undefined for any other body
 * (which {@link parseMessage} reads). Only bodies that start with `[` are parsed here.
 */
export function batchOf(body: string): unknown[] | undefined {
  if (!body.trimStart().startsWith('[')) return undefined;
  try {
    const value: unknown = JSON.parse(body);
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Validate an already-decoded value as one JSON-RPC message. */
export function validateMessage(value: unknown): ParseResult {
  if (Array.isArray(value)) {
    return {
      ok: false,
      error: failure(null, RpcCode.InvalidRequest, 'Invalid Request: JSON-RPC batches are not supported; send one message per POST'),
    };
  }
  if (!isObject(value)) {
    return { ok: false, error: failure(null, RpcCode.InvalidRequest, 'Invalid Request: a JSON-RPC message must be an object') };
  }
  const id = isId(value.id) ? value.id : null;
  const invalid = (why: string): ParseResult => ({ ok: false, error: failure(id, RpcCode.InvalidRequest, `Invalid Request: ${why}`) });
  if (value.jsonrpc !== '2.0') return invalid('"jsonrpc" must be "2.0"');
  if ('id' in value && !isId(value.id)) return invalid('"id" must be a string or a number');
  if ('method' in value) {
    if (typeof value.method !== 'string' || value.method === '') return invalid('"method" must be a non-empty string');
    if ('params' in value && value.params !== undefined && !isObject(value.params)) return invalid('"params" must be an object');
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  if (!('id' in value)) return invalid('a message needs "method" or "id"');
  if ('result' in value) {
    if (!isObject(value.result)) return invalid('"result" must be an object');
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  if ('error' in value) {
    const e = value.error;
    if (!isObject(e) || typeof e.code !== 'number' || typeof e.message !== 'string') {
      return invalid('"error" must have a numeric "code" and a string "message"');
    }
    return { ok: true, message: value as unknown as JsonRpcMessage };
  }
  return invalid('a response needs "result" or "error"');
}

const serialized = new WeakMap<JsonRpcMessage, string>();

/**
 * A message as JSON, serialized once however many readers need it: the transport writes it and
 * the audit trail counts its bytes. Messages are not changed after they are made.
 */
export function toJson(m: JsonRpcMessage): string {
  let json = serialized.get(m);
  if (json === undefined) {
    json = JSON.stringify(m);
    serialized.set(m, json);
  }
  return json;
}
