import { Agent, type Dispatcher } from 'undici';

/** Options for the shared outbound HTTP agent. */
export interface TransportOptions {
  readonly connectTimeoutMs: number;
}

/** One keep-alive connection pool per origin, shared by every upstream call. */
export function createAgent(opts: TransportOptions): Dispatcher {
  return new Agent({ connect: { timeout: opts.connectTimeoutMs }, keepAliveTimeout: 30_000, keepAliveMaxTimeout: 600_000 });
}

const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'UND_ERR_CONNECT_TIMEOUT']);

/**
 * Whether a failed request certainly never reached the backend (the connection could not be
 * made), so sending it to another instance cannot duplicate a side effect.
 */
export function neverReachedBackend(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && NOT_SENT.has(code)) return true;
    const errors = (e as { errors?: unknown }).errors;
    if (Array.isArray(errors) && errors.length > 0 && errors.every(neverReachedBackend)) return true;
  }
  return false;
}

/** Whether an error comes from the network (a Node or undici error code) rather than from a bug. */
export function isNetworkError(err: unknown): boolean {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('UND_ERR') || code.startsWith('EAI_') || /^E[A-Z]+$/.test(code))) return true;
  }
  return false;
}

/** A short, model-readable description of a network failure. */
export function describeNetworkError(err: unknown): string {
  const e = err as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  const code = e.cause?.code ?? e.code;
  const msg = e.cause?.message ?? e.message ?? String(err);
  return code && !msg.includes(code) ? `${code}: ${msg}` : msg;
}
