import type { JsonRpcId } from '../mcp/jsonrpc.js';
import { isHeldSessionId } from '../session/held.js';

/** The key of a running call: the client session and the client's request id (whose type matters). */
export function inflightKey(sessionId: string, requestId: JsonRpcId): string {
  return `${sessionId}\u0000${typeof requestId}:${requestId}`;
}

let nextToken = 0;

/**
 * The key a new running call is kept under. A gateway-held record (src/session/held.ts) stands for
 * every stateless client of one caller, whose request ids repeat (each agent starts at `1`): keyed
 * by session and id, two such calls would overwrite each other, and a drain or shutdown would
 * neither wait for nor cut the first. Each gets a token of its own instead; nothing needs to find
 * it by id, since a stateless client cancels by closing its request, not by
 * `notifications/cancelled`.
 */
export function newInflightKey(sessionId: string, requestId: JsonRpcId): string {
  return isHeldSessionId(sessionId) ? `${sessionId}\u0000#${++nextToken}` : inflightKey(sessionId, requestId);
}
