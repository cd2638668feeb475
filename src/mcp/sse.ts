import { createParser, type EventSourceMessage } from 'eventsource-parser';

/** Encode one JSON-RPC message as an SSE `message` event. */
export function sseEvent(data: string, id?: string): string {
  return id === undefined ? `event: message\ndata: ${data}\n\n` : `id: ${id}\nevent: message\ndata: ${data}\n\n`;
}

/**
 * A priming event (2025-11-25 transport): an event id and empty data, so the client can resume
 * before the first message, and `retry`, how long it waits before reconnecting.
 */
export function ssePriming(id: string, retryMs: number): string {
  return `id: ${id}\nretry: ${retryMs}\ndata: \n\n`;
}

/** An SSE comment line; keeps idle connections alive through proxies. */
export const SSE_KEEPALIVE = ': keep-alive\n\n';

/**
 * Decode an SSE byte stream into its events as they arrive.
 * Yields each event's data; events other than `message` (or unnamed) are skipped. `onRetry` hears
 * the stream's `retry` field (how long to wait before reconnecting).
 */
export async function* decodeSse(body: AsyncIterable<Uint8Array | string>, onRetry?: (ms: number) => void): AsyncGenerator<EventSourceMessage> {
  const pending: EventSourceMessage[] = [];
  const parser = createParser({ onEvent: (e) => pending.push(e), ...(onRetry ? { onRetry } : {}) });
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    parser.feed(typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }));
    while (pending.length > 0) yield pending.shift()!;
  }
  parser.feed(decoder.decode());
  while (pending.length > 0) yield pending.shift()!;
}
