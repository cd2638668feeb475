import type { Dispatcher } from 'undici';
import { GatewayError } from '../errors.js';
import { validateMessage, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { HEADER_PROTOCOL_VERSION, HEADER_SESSION_ID } from '../mcp/protocol.js';
import { decodeSse } from '../mcp/sse.js';
import { isJsonMedia, mediaType } from '../mcp/media-type.js';
import { readText } from './body.js';

/** Where and as whom to talk to a native MCP backend. */
export interface McpEndpoint {
  readonly url: string;
  readonly sessionId?: string | null;
  readonly protocolVersion?: string;
  readonly headers: Readonly<Record<string, string>>;
}

export interface McpReply {
  readonly status: number;
  readonly sessionId: string | undefined;
  readonly contentType: string;
  readonly body: Dispatcher.ResponseData['body'];
}

/** POST one JSON-RPC message to a Streamable HTTP endpoint; the reply body is read by {@link replyMessages}. */
export async function postMessage(dispatcher: Dispatcher, ep: McpEndpoint, message: JsonRpcMessage, signal: AbortSignal): Promise<McpReply> {
  const url = new URL(ep.url);
  const headers: Record<string, string> = {
    ...ep.headers,
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
  };
  if (ep.sessionId) headers[HEADER_SESSION_ID] = ep.sessionId;
  if (ep.protocolVersion) headers[HEADER_PROTOCOL_VERSION] = ep.protocolVersion;
  const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'POST', headers, body: JSON.stringify(message), signal });
  const sid = res.headers[HEADER_SESSION_ID];
  return { status: res.statusCode, sessionId: Array.isArray(sid) ? sid[0] : sid, contentType: mediaType(res.headers['content-type']), body: res.body };
}

/**
 * Open a backend session's GET stream, where the backend sends what no request asked for (updates,
 * list changes); with `lastEventId`, resume a stream the backend closed (`Last-Event-ID`).
 */
export async function openStream(dispatcher: Dispatcher, ep: McpEndpoint, signal: AbortSignal, lastEventId?: string): Promise<McpReply> {
  const url = new URL(ep.url);
  const headers: Record<string, string> = { ...ep.headers, accept: 'text/event-stream' };
  if (lastEventId !== undefined) headers['last-event-id'] = lastEventId;
  if (ep.sessionId) headers[HEADER_SESSION_ID] = ep.sessionId;
  if (ep.protocolVersion) headers[HEADER_PROTOCOL_VERSION] = ep.protocolVersion;
  const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', headers, signal });
  return { status: res.statusCode, sessionId: ep.sessionId ?? undefined, contentType: mediaType(res.headers['content-type']), body: res.body };
}

/** Terminate a backend session (DELETE); backends that do not support it answer 405, which is fine. */
export async function deleteSession(dispatcher: Dispatcher, ep: McpEndpoint, signal: AbortSignal): Promise<void> {
  if (!ep.sessionId) return;
  const url = new URL(ep.url);
  const headers: Record<string, string> = { ...ep.headers, [HEADER_SESSION_ID]: ep.sessionId };
  if (ep.protocolVersion) headers[HEADER_PROTOCOL_VERSION] = ep.protocolVersion;
  const res = await dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'DELETE', headers, signal });
  await res.body.dump();
}

/**
 * The JSON-RPC messages of a reply: none for 202, one (or a batch) for JSON, each event for SSE.
 * Stopping early leaves the body open: the caller drains it ({@link finishReply}) so the
 * keep-alive connection survives, or destroys it to abandon the exchange.
 */
export async function* replyMessages(reply: McpReply): AsyncGenerator<JsonRpcMessage> {
  if (reply.status === 202) {
    await reply.body.dump();
    return;
  }
  if (reply.contentType === 'text/event-stream') {
    for await (const e of sseMessages(reply)) if (e.message) yield e.message;
    return;
  }
  if (isJsonMedia(reply.contentType)) {
    const text = await readText(reply.body);
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'backend sent invalid JSON');
    }
    for (const v of Array.isArray(value) ? value : [value]) yield check(v);
    return;
  }
  await reply.body.dump();
  throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend answered HTTP ${reply.status} with content type "${reply.contentType || 'none'}"`);
}

/** An SSE reply's messages with their event ids (priming events, without data, only move the id); `retry` goes to `onRetry`. */
export async function* sseMessages(reply: McpReply, onRetry?: (ms: number) => void): AsyncGenerator<{ message?: JsonRpcMessage; eventId?: string }> {
  const body = { [Symbol.asyncIterator]: () => reply.body.iterator({ destroyOnReturn: false }) };
  for await (const event of decodeSse(body, onRetry)) {
    if (event.event !== undefined && event.event !== 'message') continue;
    const eventId = event.id;
    if (event.data.trim() === '') {
      if (eventId !== undefined) yield { eventId };
      continue;
    }
    yield { message: decode(event.data), ...(eventId === undefined ? {} : { eventId }) };
  }
}

/** Read what is left of an answered reply (the end of an SSE stream) so its connection can be reused. */
export function finishReply(reply: McpReply): void {
  reply.body.dump().catch(() => {});
}

function decode(data: string): JsonRpcMessage {
  try {
    return check(JSON.parse(data));
  } catch (err) {
    if (err instanceof GatewayError) throw err;
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', 'backend sent an SSE event that is not JSON');
  }
}

function check(value: unknown): JsonRpcMessage {
  const r = validateMessage(value);
  if (!r.ok) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend sent an invalid JSON-RPC message: ${r.error.error.message}`);
  return r.message;
}
