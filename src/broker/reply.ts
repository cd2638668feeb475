import type { ResumePoint } from '../events/log.js';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { SessionRecord } from '../session/store.js';

/** A JSON body: text, or UTF-8 parts to send in order (large cached bodies are not copied). */
export type JsonBody = string | readonly Buffer[];

/**
 * What the broker answers, for an adapter to put on the wire.
 * - json: one JSON body (already serialised) with a status;
 * - messages: notifications then one response, relayed as they come (JSON when only the response
 *   comes, SSE otherwise);
 * - empty: a status without body (202 Accepted, 204);
 * - stream: open the session's GET stream, or resume the stream `resume` names (`Last-Event-ID`).
 *
 * `messages` names the session so its answer stream can be recorded for a resume.
 */
export type Reply =
  | { kind: 'json'; status: number; body: JsonBody; headers?: Record<string, string> }
  | { kind: 'messages'; session: SessionRecord; messages: AsyncGenerator<JsonRpcMessage>; abort: AbortController; finish: () => void }
  | { kind: 'empty'; status: number }
  | { kind: 'stream'; session: SessionRecord; resume?: ResumePoint };
