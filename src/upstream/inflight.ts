import type { JsonRpcId } from '../mcp/jsonrpc.js';

/** The key of a running call: the client session and the client's request id (whose type matters). */
export function inflightKey(sessionId: string, requestId: JsonRpcId): string {
  return `${sessionId}\u0000${typeof requestId}:${requestId}`;
}
