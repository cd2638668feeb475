import type { IncomingMessage } from 'node:http';

/** A request body read up to a limit; `size` keeps counting past it so the caller can answer 413. */
export interface BoundedBody {
  readonly text: string;
  readonly size: number;
  readonly truncated: boolean;
}

/**
 * How much of an oversized body is read and thrown away before the 413 is sent. A client such as
 * `fetch` sends its whole body before it reads the answer: closing the connection under it
 * while it still sends gives it a broken pipe instead of the 413. Past this, the answer goes
 * out at once and the connection is closed (the request timeout bounds slow senders anyway).
 */
export const MAX_DISCARDED_BYTES = 64 * 1024 * 1024;

/** Read a request body, keeping at most `limit` bytes; an oversized body is drained, up to {@link MAX_DISCARDED_BYTES}. */
export function readBody(req: IncomingMessage, limit: number): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length']);
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    const finish = (body: BoundedBody): void => {
      if (done) return;
      done = true;
      resolve(body);
    };
    if (Number.isFinite(declared) && declared > MAX_DISCARDED_BYTES) {
      req.resume();
      return finish({ text: '', size: declared, truncated: true });
    }
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= limit) parts.push(chunk);
      else if (parts.length > 0) parts.length = 0; // over the limit: keep counting, stop keeping
      if (size > MAX_DISCARDED_BYTES) finish({ text: '', size, truncated: true });
    });
    req.on('end', () => {
      if (size > limit) return finish({ text: '', size: Math.max(size, Number.isFinite(declared) ? declared : 0), truncated: true });
      finish({ text: parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8'), size, truncated: false });
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
  });
}
