import { GatewayError } from '../errors.js';
import { success, type JsonRpcId, type JsonRpcSuccess } from '../mcp/jsonrpc.js';
import type { Deadline } from './deadline.js';
import { toolError } from './results.js';
import { describeNetworkError, isNetworkError } from './transport.js';

/**
 * What a failed upstream call answers the client, the same for every kind of backend:
 * nothing when the client cancelled (MCP cancellation), a tool error for a timeout, a gateway
 * error or a broken connection. Anything else is a bug and is rethrown.
 */
export function failureAnswer(err: unknown, deadline: Deadline, id: JsonRpcId, backend: string): JsonRpcSuccess | undefined {
  if (deadline.signal.aborted) return deadline.timedOut ? success(id, toolError('GW_UPSTREAM_TIMEOUT', deadline.timeoutError().detail)) : undefined;
  if (err instanceof GatewayError) return success(id, toolError(err.code, err.detail));
  if (isNetworkError(err)) return success(id, toolError('GW_UPSTREAM_UNAVAILABLE', `connection to backend "${backend}" lost: ${describeNetworkError(err)}`));
  throw err;
}
