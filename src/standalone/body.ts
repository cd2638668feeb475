import type { IncomingMessage } from 'node:http';

/** A request body read up to a limit; `size` keeps counting past it so the caller can answer 413. */
export interface BoundedBody {
  readonly text: string;
  readonly size: number;
  readonly truncated: boolean;
}

/** Read a request body, keeping at most `limit` bytes; stops reading once the limit is passed. */
export function readBody(req: IncomingMessage, limit: number): Promise<BoundedBody> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume();
    return Promise.resolve({ text: '', size: declared, truncated: true });
  }
  return new Promise((resolve, reject) => {
    const parts: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        req.pause();
        resolve({ text: '', size, truncated: true });
        return;
      }
      parts.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve({ text: parts.length === 1 ? parts[0]!.toString('utf8') : Buffer.concat(parts).toString('utf8'), size, truncated: false });
    });
    req.on('error', (err) => {
      if (!done) reject(err);
      done = true;
    });
  });
}
