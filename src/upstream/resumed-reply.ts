import { GatewayError } from '../errors.js';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import { replyMessages, sseMessages, type McpReply } from './mcp-wire.js';
import { pause } from '../wait.js';

/** Resumes in a row that bring no new message before the stream counts as closed. */
const MAX_IDLE_RESUMES = 3;
/** The longest wait a backend's `retry` may ask for, and the wait when it sent none. */
const MAX_RETRY_MS = 10_000;
const DEFAULT_RETRY_MS = 1_000;


/**
 * A backend reply's messages. When the backend closes its SSE stream after giving an event id
 * and before the caller has what it waits for (2025-11-25 SSE polling, SEP-1699), or the
 * connection drops, the stream is resumed with GET + `Last-Event-ID` after the backend's `retry`,
 * so the client sees one uninterrupted answer. A backend that sent no id cannot be resumed: the
 * messages end, as before. The caller finishes the first reply; resumed ones are closed here.
 */
export async function* resumableMessages(reply: McpReply, resume: (lastEventId: string) => Promise<McpReply>, signal: AbortSignal): AsyncGenerator<JsonRpcMessage> {
  if (reply.status !== 200 || reply.contentType !== 'text/event-stream') return yield* replyMessages(reply);
  let current = reply;
  let lastEventId: string | undefined;
  let retryMs = DEFAULT_RETRY_MS;
  let idle = 0;
  try {
    for (;;) {
      let progressed = false;
      try {
        for await (const e of sseMessages(current, (ms) => (retryMs = Math.min(ms, MAX_RETRY_MS)))) {
          if (e.eventId !== undefined) lastEventId = e.eventId;
          if (e.message) {
            progressed = true;
            yield e.message;
          }
        }
      } catch (err) {
        // A dropped connection is resumed like a closed stream; a message the gateway cannot read is not.
        if (err instanceof GatewayError || lastEventId === undefined || signal.aborted) throw err;
      }
      idle = progressed ? 0 : idle + 1;
      if (lastEventId === undefined || signal.aborted || idle >= MAX_IDLE_RESUMES) return;
      await pause(retryMs, signal);
      if (signal.aborted) return;
      const next = await resume(lastEventId);
      if (current !== reply) current.body.destroy();
      current = next;
      if (next.status !== 200 || next.contentType !== 'text/event-stream') return;
    }
  } finally {
    if (current !== reply) current.body.destroy();
  }
}
