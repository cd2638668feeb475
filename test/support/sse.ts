import type { EventSourceMessage } from 'eventsource-parser';
import { decodeSse } from '../../src/mcp/sse.js';
import { MCP_HEADERS } from './gateway.js';

/** An SSE answer read event by event, as a client sees it; `close` drops the connection. */
export interface SseReader {
  readonly status: number;
  readonly headers: Headers;
  /** The next event, or undefined when the stream ended. */
  next(): Promise<EventSourceMessage | undefined>;
  /** Events until `stop` holds for one (included) or the stream ends. */
  until(stop: (e: EventSourceMessage) => boolean): Promise<EventSourceMessage[]>;
  /** Events that arrive within `ms` (the stream stays open). */
  during(ms: number): Promise<EventSourceMessage[]>;
  close(): void;
}

async function reader(url: string, init: RequestInit): Promise<SseReader> {
  const abort = new AbortController();
  const res = await fetch(url, { ...init, signal: abort.signal });
  const events = decodeSse(res.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
  let pending: Promise<IteratorResult<EventSourceMessage>> | undefined;
  const next = async (): Promise<EventSourceMessage | undefined> => {
    const r = await (pending ?? events.next());
    pending = undefined;
    return r.done ? undefined : r.value;
  };
  return {
    status: res.status,
    headers: res.headers,
    next,
    async until(stop) {
      const out: EventSourceMessage[] = [];
      for (let e = await next(); e; e = await next()) {
        out.push(e);
        if (stop(e)) break;
      }
      return out;
    },
    async during(ms) {
      const out: EventSourceMessage[] = [];
      const end = Date.now() + ms;
      for (;;) {
        pending ??= events.next();
        const left = end - Date.now();
        if (left <= 0) return out;
        const r = await Promise.race([pending, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), left))]);
        if (r === 'timeout') return out;
        pending = undefined;
        if (r.done) return out;
        out.push(r.value);
      }
    },
    close: () => abort.abort(),
  };
}

/** POST one JSON-RPC message in a session and read the answer as SSE. */
export function ssePost(url: string, sessionId: string, message: unknown, headers: Record<string, string> = {}): Promise<SseReader> {
  return reader(url, { method: 'POST', headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, ...headers }, body: JSON.stringify(message) });
}

/** Open (or with `lastEventId`, resume) a GET stream of a session. */
export function sseGet(url: string, sessionId: string, lastEventId?: string): Promise<SseReader> {
  return reader(url, { headers: { accept: 'text/event-stream', 'mcp-session-id': sessionId, ...(lastEventId ? { 'last-event-id': lastEventId } : {}) } });
}

/** The JSON-RPC messages of events (priming events, which have no data, left out). */
export const messagesOf = (events: EventSourceMessage[]): any[] => events.filter((e) => e.data !== '').map((e) => JSON.parse(e.data));

/** POST one stateless (2026-07-28) request, no session, and read its answer as SSE (a `subscriptions/listen` stream). */
export function sseStateless(url: string, message: { id: string | number; method: string; params?: Record<string, unknown> }): Promise<SseReader> {
  const _meta = { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' } };
  return reader(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': message.method },
    body: JSON.stringify({ jsonrpc: '2.0', ...message, params: { ...message.params, _meta } }),
  });
}
