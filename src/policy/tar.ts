import { gzipSync } from 'node:zlib';

/** One regular file of an archive. */
export interface TarEntry {
  readonly name: string;
  readonly content: string;
}

const BLOCK = 512;
/** Longest entry name in bytes (ustar's name field; the prefix field is not used). */
export const TAR_NAME_MAX = 100;

/**
 * A gzipped POSIX ustar archive of regular files, as OPA reads bundles. Written here rather than
 * with a tar library: an OPA bundle is a handful of small text files, and the npm tar writers
 * bring a stream stack (and a file-system layer) for it. The bytes depend on the entries alone
 * (mtime 0, owner 0, mode 0644, gzip without a timestamp), so every gateway replica serving the
 * same policies serves the same archive, and its digest can be the bundle's revision.
 */
export function tarGz(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const body = Buffer.from(e.content, 'utf8');
    parts.push(header(e.name, body.length), body, Buffer.alloc((BLOCK - (body.length % BLOCK)) % BLOCK));
  }
  parts.push(Buffer.alloc(2 * BLOCK)); // end of archive: two zero blocks
  return gzipSync(Buffer.concat(parts));
}

function header(name: string, size: number): Buffer {
  const bytes = Buffer.byteLength(name);
  if (bytes > TAR_NAME_MAX) throw new Error(`archive entry name longer than ${TAR_NAME_MAX} bytes: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  octal(h, 100, 8, 0o644); // mode
  octal(h, 108, 8, 0); // uid
  octal(h, 116, 8, 0); // gid
  octal(h, 124, 12, size);
  octal(h, 136, 12, 0); // mtime
  h.fill(' ', 148, 156); // checksum is computed over the header with its own field as spaces
  h.write('0', 156, 'ascii'); // regular file
  h.write('ustar\u000000', 257, 'ascii');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'ascii');
  return h;
}

function octal(h: Buffer, at: number, width: number, n: number): void {
  h.write(`${n.toString(8).padStart(width - 1, '0')}\u0000`, at, 'ascii');
}
