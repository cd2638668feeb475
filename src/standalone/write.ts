import type { ServerResponse } from 'node:http';
import { accepts } from '../admission/media.js';
import type { JsonBody, Reply } from '../broker/reply.js';
import type { StreamHub } from '../broker/streams.js';
import { wireError } from '../errors.js';
import { isResponse, toJson, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { SSE_KEEPALIVE, sseEvent } from '../mcp/sse.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' };

/** Write bytes, waiting for the socket to drain when its buffer is full. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.write(chunk)) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Write a complete JSON answer; text is encoded once, parts are written without copying. */
export function writeJson(res: ServerResponse, status: number, body: JsonBody, headers: Record<string, string> = {}): void {
  if (typeof body === 'string') {
    const bytes = Buffer.from(body);
    res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': bytes.length });
    res.end(bytes);
    return;
  }
  let length = 0;
  for (const part of body) length += part.length;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': length });
  res.cork();
  for (const part of body) res.write(part);
  res.end();
}

export interface WriteContext {
  readonly accept: string | undefined;
  readonly requestId: JsonRpcId | null;
  readonly streams: StreamHub;
  readonly keepAliveMs: number;
  readonly onError: (err: unknown) => void;
}

/** Put a broker reply on the wire. */
export async function writeReply(res: ServerResponse, reply: Reply, ctx: WriteContext): Promise<void> {
  switch (reply.kind) {
    case 'json':
      return writeJson(res, reply.status, reply.body, reply.headers);
    case 'empty':
      res.writeHead(reply.status).end();
      return;
    case 'stream':
      return openStream(res, reply.session.id, ctx);
    case 'messages':
      try {
        return await relay(res, reply.messages, reply.abort, ctx);
      } finally {
        reply.finish();
      }
  }
}

/**
 * Relay a call: JSON when the response is the first thing that comes (or the client does not
 * take SSE), SSE as soon as a notification comes first. A client that goes away aborts the call.
 */
async function relay(res: ServerResponse, messages: AsyncGenerator<JsonRpcMessage>, abort: AbortController, ctx: WriteContext): Promise<void> {
  const onClose = (): void => {
    if (!res.writableFinished) abort.abort(new Error('client disconnected'));
  };
  res.on('close', onClose);
  const sse = accepts(ctx.accept, 'text/event-stream');
  const json = accepts(ctx.accept, 'application/json');
  let streaming = false;
  try {
    for await (const m of messages) {
      if (!streaming) {
        if (isResponse(m) && json) return writeJson(res, 200, toJson(m));
        if (!sse) continue; // a JSON-only client gets just the final response
        res.writeHead(200, SSE_HEADERS);
        streaming = true;
      }
      await write(res, sseEvent(toJson(m)));
      if (isResponse(m)) break;
    }
    if (!streaming && !res.headersSent) {
      // Cancelled calls end without a JSON-RPC response, as MCP cancellation asks.
      if (abort.signal.aborted) res.writeHead(204).end();
      else writeJson(res, 500, JSON.stringify(wireError('GW_INTERNAL', ctx.requestId, 'the call ended without a response')));
      return;
    }
    res.end();
  } catch (err) {
    ctx.onError(err);
    const body = JSON.stringify(wireError('GW_INTERNAL', ctx.requestId));
    if (!res.headersSent) writeJson(res, 500, body);
    else if (!res.writableEnded) res.end(sseEvent(body));
  } finally {
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

/** The session's GET stream: server-initiated messages and keep-alives until the client or session goes. */
function openStream(res: ServerResponse, sessionId: string, ctx: WriteContext): Promise<void> {
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  return new Promise((resolve) => {
    const keepAlive = setInterval(() => res.write(SSE_KEEPALIVE), ctx.keepAliveMs);
    const unregister = ctx.streams.add(sessionId, {
      send: (m) => void res.write(sseEvent(JSON.stringify(m))),
      close: () => res.end(),
    });
    res.on('close', () => {
      clearInterval(keepAlive);
      unregister();
      resolve();
    });
  });
}
