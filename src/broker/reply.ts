import type { ResumePoint } from '../events/log.js';
import { isResponse, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.js';
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
  | {
      kind: 'messages';
      session: SessionRecord;
      messages: AsyncGenerator<JsonRpcMessage>;
      abort: AbortController;
      finish: () => void;
      /** A stream with no end of its own (`subscriptions/listen`): kept open through proxies with SSE comments while idle. */
      keepAlive?: true;
    }
  | { kind: 'empty'; status: number }
  | { kind: 'stream'; session: SessionRecord; resume?: ResumePoint };

/**
 * The answer to a JSON-RPC batch (2025-03-26): the responses to its requests as one JSON array,
 * in the batch's order, once all are in (notifications of calls in a batch are not streamed);
 * 202 when the batch held only notifications and responses.
 */
export async function answerBatch(replies: readonly Reply[]): Promise<Reply> {
  // The calls run side by side; their answers keep the batch's order.
  const answers = await Promise.all(
    replies.map(async (r): Promise<unknown[]> => {
      if (r.kind === 'json') return [JSON.parse(typeof r.body === 'string' ? r.body : Buffer.concat(r.body).toString('utf8'))];
      return r.kind === 'messages' ? responsesOf(r) : [];
    }),
  );
  const out = answers.flat();
  return out.length === 0 ? { kind: 'empty', status: 202 } : { kind: 'json', status: 200, body: JSON.stringify(out) };
}

async function responsesOf(r: Extract<Reply, { kind: 'messages' }>): Promise<JsonRpcMessage[]> {
  const out: JsonRpcMessage[] = [];
  try {
    for await (const m of r.messages) if (isResponse(m)) out.push(m);
  } finally {
    r.finish();
  }
  return out;
}

/**
 * The response a reply ends with, for a request the gateway sent for itself (not streamed to a
 * client): read to its response, then finished. Undefined when none came.
 */
/** A JSON-RPC message (or batch) answered as one JSON body, 200. */
export function json(body: unknown): Reply {
  return { kind: 'json', status: 200, body: JSON.stringify(body) };
}

export async function responseOf(reply: Reply): Promise<JsonRpcResponse | undefined> {
  if (reply.kind === 'json') return JSON.parse(typeof reply.body === 'string' ? reply.body : Buffer.concat(reply.body).toString('utf8')) as JsonRpcResponse;
  if (reply.kind !== 'messages') return undefined;
  try {
    for await (const m of reply.messages) if (isResponse(m)) return m;
    return undefined;
  } finally {
    reply.finish();
  }
}
