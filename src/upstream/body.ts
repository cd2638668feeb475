import { GatewayError } from '../errors.js';

/** Largest upstream answer the gateway takes for one call: a whole body, or a stream's chunks together. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;
/** Longest line (NDJSON record, SSE field) of a streamed answer. */
export const MAX_LINE_BYTES = 1024 * 1024;

function tooLarge(what: string): GatewayError {
  return new GatewayError('GW_UPSTREAM_TOO_LARGE', what);
}

/** Read a whole body as text, refusing bodies over the limit. */
export async function readText(body: AsyncIterable<Uint8Array>, limit = MAX_RESPONSE_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw tooLarge(`the answer is larger than ${limit} bytes`);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

/**
 * Pass a streamed body through, failing once it carries more than `maxBytes` in all or a line
 * longer than `maxLine`: what a stream holds in memory is bounded before any parser buffers it.
 * Each chunk is scanned once, from its end, so the cost stays linear whatever the backend sends.
 */
export async function* bounded(body: AsyncIterable<Uint8Array>, maxBytes = MAX_RESPONSE_BYTES, maxLine = MAX_LINE_BYTES): AsyncGenerator<Uint8Array> {
  let total = 0;
  let sinceNewline = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > maxBytes) throw tooLarge(`the streamed answer is larger than ${maxBytes} bytes`);
    const nl = chunk.lastIndexOf(0x0a);
    sinceNewline = nl < 0 ? sinceNewline + chunk.byteLength : chunk.byteLength - nl - 1;
    if (sinceNewline > maxLine) throw tooLarge(`the streamed answer has a line longer than ${maxLine} bytes`);
    yield chunk;
  }
}

/** Split an NDJSON / JSON Lines stream into its non-empty lines as they arrive (linear in the input). */
export async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let pending = '';
  for await (const chunk of body) {
    const text = decoder.decode(chunk, { stream: true });
    let start = 0;
    for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
      const line = (pending + text.slice(start, nl)).trim();
      pending = '';
      start = nl + 1;
      if (line !== '') yield line;
    }
    pending += text.slice(start);
  }
  const last = (pending + decoder.decode()).trim();
  if (last !== '') yield last;
}

export function parseJsonOr<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
