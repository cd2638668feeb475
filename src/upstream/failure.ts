import { GatewayError, RequestRefused, upstreamFailure, wireError, type ErrorCode } from '../errors.js';
import { success, type JsonRpcId, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import type { Deadline } from './deadline.js';
import { toolError } from './results.js';
import { describeNetworkError, isNetworkError } from './transport.js';

/** How a failure reaches the client: a tool error for `tools/call`, a JSON-RPC error for other requests. */
export type FailureShape = (code: ErrorCode, detail: string | undefined) => JsonRpcResponse;

/** The failure shape of `tools/call`: a tool error the model can react to. */
export function asToolError(id: JsonRpcId): FailureShape {
  return (code, detail) => success(id, toolError(code, detail));
}

/** The failure shape of a request: a tool error for `tools/call`, -32603 with the gateway code for the others. */
export function failureShapeOf(method: string, id: JsonRpcId): FailureShape {
  return method === 'tools/call' ? asToolError(id) : (code, detail) => upstreamFailure(code, id, detail);
}

/**
 * What a failed upstream call answers the client, the same for every kind of backend:
 * nothing when the client cancelled (MCP cancellation), a failure in the request's shape for a
 * timeout, a gateway error or a broken connection. Anything else is a bug and is rethrown.
 */
export function failureAnswer(err: unknown, deadline: Deadline, id: JsonRpcId, backend: string, shape: FailureShape = asToolError(id)): JsonRpcResponse | undefined {
  if (deadline.signal.aborted) return deadline.timedOut ? shape('GW_UPSTREAM_TIMEOUT', deadline.timeoutError().detail) : undefined;
  if (err instanceof RequestRefused) return wireError(err.code, id, err.detail, err.data);
  if (err instanceof GatewayError) return shape(err.code, err.detail);
  if (isNetworkError(err)) return shape('GW_UPSTREAM_UNAVAILABLE', `connection to backend "${backend}" lost: ${describeNetworkError(err)}`);
  throw err;
}
