import type { ServerResponse } from 'node:http';
import { accepts } from '../admission/media.js';
import type { JsonBody, Reply } from '../broker/reply.js';
import type { SessionStream, StreamHub } from '../broker/streams.js';
import type { StreamWriter } from '../events/writer.js';
import { wireError } from '../errors.js';
import { isResponse, toJson, type JsonRpcId } from '../mcp/jsonrpc.js';
import { SSE_KEEPALIVE, sseEvent, ssePriming } from '../mcp/sse.js';
import { primesStreams } from '../mcp/protocol.js';
import { eraOf } from '../mcp/era.js';
import { statelessStatus } from '../mcp/stateless-results.js';

const SSE_HEADERS = { 'content-type': 'text/event-stream', 'cache-control': 'no-cache, no-transform', 'x-accel-buffering': 'no' };

/** Write bytes, waiting for the socket to drain when its buffer is full. */
function write(res: ServerResponse, chunk: string): Promise<void> {
  if (res.destroyed || res.writableEnded) return Promise.resolve();
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

/**
 * One SSE comment, to keep an idle stream open through proxies. Skipped while the socket is behind:
 * bytes still on their way keep the connection busy anyway, and a tick that queued or waited would
 * leave a comment and a 'drain'/'close' listener on the response per tick of a stalled client.
 */
function keepAlive(res: ServerResponse): void {
  if (!res.writableNeedDrain && !res.destroyed && !res.writableEnded) res.write(SSE_KEEPALIVE);
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
      return openStream(res, reply, ctx);
    case 'messages':
      try {
        return await relay(res, reply, ctx);
      } finally {
        reply.finish();
      }
  }
}

/**
 * Relay a call: JSON when the response is the first thing that comes (or the client does not
 * take SSE), SSE as soon as a notification comes first. Every SSE event is recorded with an id,
 * after a priming event for 2025-11-25 clients (neither with `events.store: off`). A client that
 * goes away before it holds an event id cannot resume, so that ends the call; after, a
 * disconnect is not a cancellation (the transport spec): the call runs on, within its timeout,
 * and the rest of its stream is kept for `GET` + `Last-Event-ID`. `notifications/cancelled`
 * stops it either way.
 */
async function relay(res: ServerResponse, reply: Extract<Reply, { kind: 'messages' }>, ctx: WriteContext): Promise<void> {
  const { messages, abort, session } = reply;
  const { log } = ctx.streams;
  let writer: StreamWriter | undefined;
  let streaming = false;
  let priming = '';
  let gone = false;
  let ticking: NodeJS.Timeout | undefined;
  const onClose = (): void => {
    if (res.writableFinished) return;
    gone = true;
    if (!writer) abort.abort(new Error('client disconnected'));
  };
  res.on('close', onClose);
  const sse = accepts(ctx.accept, 'text/event-stream');
  const json = accepts(ctx.accept, 'application/json');
  const stateless = eraOf(session.protocolVersion) === 'stateless';
  try {
    for await (const m of messages) {
      const data = toJson(m);
      if (!streaming) {
        if (isResponse(m) && json) return writeJson(res, stateless ? statelessStatus(m) : 200, data);
        if (!sse) continue; // a JSON-only client gets just the final response
        res.writeHead(200, SSE_HEADERS);
        streaming = true;
        // A comment between events is ignored by every SSE parser, and keeps idle proxies from closing the stream.
        if (reply.keepAlive) ticking = setInterval(() => gone || keepAlive(res), ctx.keepAliveMs);
        // A stateless client's stream cannot be resumed: closing it cancels the call (its transport's rule).
        if (log.resumable && !stateless) {
          writer = log.open(session.id, 'call');
          // Sent with the first message: one write instead of two.
          if (primesStreams(session.protocolVersion)) priming = ssePriming(writer.append(''), log.opts.retryMs);
        }
      }
      const id = writer?.append(data);
      if (!gone) await write(res, priming + sseEvent(data, id));
      priming = '';
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
    else if (!res.writableEnded) res.end(sseEvent(body, writer && !writer.window.ended ? writer.append(body) : undefined));
  } finally {
    clearInterval(ticking);
    writer?.end();
    res.off('close', onClose);
    if (!res.writableEnded) res.end();
  }
}

/**
 * A GET: the rest of a call's stream the client resumes (ended after its response), or a session
 * stream: server-initiated messages until the client or the session goes. A session stream this
 * process writes is resumed as is; one another instance wrote is replayed once, and a new stream
 * of this process carries what comes next.
 */
async function openStream(res: ServerResponse, reply: Extract<Reply, { kind: 'stream' }>, ctx: WriteContext): Promise<void> {
  const { session, resume } = reply;
  const { streams } = ctx;
  const { log } = streams;
  res.writeHead(200, SSE_HEADERS);
  res.flushHeaders();
  const closed = new AbortController();
  res.on('close', () => closed.abort());
  let following: SessionStream | undefined;
  const ticking = setInterval(() => {
    keepAlive(res);
    following?.writer.touch();
  }, ctx.keepAliveMs);
  const pipe = async (events: AsyncIterable<{ id: string; data: string }>): Promise<void> => {
    for await (const e of events) await write(res, sseEvent(e.data, log.resumable ? e.id : undefined));
  };
  try {
    if (resume?.kind === 'call') return await pipe(log.follow(resume, closed.signal));
    const local = resume ? streams.find(session.id, resume.cursor.stream) : undefined;
    if (local) streams.attach(local);
    following = local ?? streams.open(session.id);
    const replayOnce = local ? undefined : resume;
    const { writer } = following;
    // A new stream primes the client's cursor (after the replay, so the cursor moves on to it).
    const priming = (!resume || replayOnce) && log.resumable && primesStreams(session.protocolVersion) ? writer.append('') : undefined;
    const from = resume && !replayOnce ? resume.cursor.seq : writer.last;
    if (replayOnce) await pipe(log.follow(replayOnce, closed.signal, true));
    if (priming) await write(res, ssePriming(priming, log.opts.retryMs));
    await pipe(log.follow({ cursor: { stream: writer.id, seq: from }, kind: 'session' }, closed.signal));
  } finally {
    clearInterval(ticking);
    if (following) streams.detach(following);
    if (!res.writableEnded) res.end();
  }
}
