/**
 * Values the gateway hands a client to echo back (the stateless era's `requestState`), sealed
 * with AES-256-GCM: the client can neither read nor alter them. The additional data names what
 * a value is, so one kind of state is never opened as another (a confirmation as a held call).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;
/** Longest sealed value accepted back (a state is small; anything longer is not one). */
export const MAX_SEALED_CHARS = 65_536;

/** `value` as JSON, sealed under `key` for the purpose `aad` names. */
export function seal(key: Buffer, aad: Buffer, value: unknown): string {
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(aad);
  const body = Buffer.concat([cipher.update(JSON.stringify(value), 'utf8'), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]).toString('base64url');
}

/** What a sealed value says, or why it is not one this gateway sealed for `aad`. */
export function unseal<T>(key: Buffer, aad: Buffer, sealed: unknown): { ok: true; value: T } | { ok: false; detail: string } {
  if (typeof sealed !== 'string' || sealed.length > MAX_SEALED_CHARS) return { ok: false, detail: '"requestState" must be the string the gateway handed out' };
  const raw = Buffer.from(sealed, 'base64url');
  if (raw.length <= 1 + IV_BYTES + TAG_BYTES || raw[0] !== VERSION) return { ok: false, detail: 'not a requestState this gateway issued' };
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 1 + IV_BYTES));
    decipher.setAAD(aad);
    decipher.setAuthTag(raw.subarray(1 + IV_BYTES, 1 + IV_BYTES + TAG_BYTES));
    return { ok: true, value: JSON.parse(Buffer.concat([decipher.update(raw.subarray(1 + IV_BYTES + TAG_BYTES)), decipher.final()]).toString('utf8')) as T };
  } catch {
    return { ok: false, detail: 'not a requestState this gateway issued (or it was altered)' };
  }
}
