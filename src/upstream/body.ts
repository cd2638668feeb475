import { GatewayError } from '../errors.js';

/** Largest upstream response body the gateway buffers for one tool result. */
export const MAX_RESPONSE_BYTES = 16 * 1024 * 1024;

/** Read a whole body as text, refusing bodies over the limit. */
export async function readText(body: AsyncIterable<Uint8Array>, limit = MAX_RESPONSE_BYTES): Promise<string> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.byteLength;
    if (size > limit) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `response larger than ${limit} bytes`);
    parts.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8');
}

/** Split an NDJSON / JSON Lines stream into its non-empty lines as they arrive. */
export async function* lines(body: AsyncIterable<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffered = '';
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl).trim();
      buffered = buffered.slice(nl + 1);
      if (line !== '') yield line;
    }
  }
  const last = (buffered + decoder.decode()).trim();
  if (last !== '') yield last;
}

export function parseJsonOr<T>(text: string, fallback: T): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return fallback;
  }
}
