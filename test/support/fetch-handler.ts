/**
 * Serves a web-standard `fetch(Request) → Response` handler (the shape `createMcpHandler` of
 * `@modelcontextprotocol/server` 2.x returns) on a node:http server, so a modern-era MCP peer runs
 * on a loopback port like every other test backend. The SDK's own Node adapter
 * (`@modelcontextprotocol/node`) is not a dependency of the project; the translation is a few lines.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';

/** What the node:http side hands to the handler. */
export type FetchHandler = (request: Request) => Promise<Response>;

/** The Request a node:http request stands for; aborting `signal` tells the handler the client went away. */
export function toWebRequest(req: IncomingMessage, signal: AbortSignal): Request {
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) headers.append(name, v);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(`http://${req.headers.host ?? 'localhost'}${req.url ?? '/'}`, {
    method: req.method,
    headers,
    signal,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream<Uint8Array>, duplex: 'half' } : {}),
  } as RequestInit);
}

/**
 * Answers one node:http request with `handler`: streams the Response body (SSE included) as it
 * comes, and aborts the Request when the client closes the connection first, which is how a
 * modern server learns that a call was cancelled.
 */
export async function serveFetch(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const aborter = new AbortController();
  res.on('close', () => {
    if (!res.writableFinished) aborter.abort();
  });
  const response = await handler(toWebRequest(req, aborter.signal));
  res.writeHead(response.status, Object.fromEntries(response.headers));
  if (!response.body) {
    res.end();
    return;
  }
  res.flushHeaders();
  const body = Readable.fromWeb(response.body as never);
  body.on('error', () => res.destroy());
  body.pipe(res);
}
