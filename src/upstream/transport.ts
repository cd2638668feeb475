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

/** undici codes for requests refused before anything was sent: the request is at fault, not the network. */
const CLIENT_SIDE = new Set(['UND_ERR_INVALID_ARG', 'UND_ERR_INVALID_RETURN_VALUE', 'UND_ERR_NOT_SUPPORTED', 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH']);

/** The first Node or undici error code along an error's causes. */
function networkCode(err: unknown): string | undefined {
  for (let e: unknown = err, depth = 0; e && depth < 4; e = (e as { cause?: unknown }).cause, depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (code.startsWith('UND_ERR') || code.startsWith('EAI_') || /^E[A-Z]+$/.test(code))) return code;
  }
  return undefined;
}

/**
 * Whether an error comes from the network (a Node or undici error code) rather than from a bug
 * or a request undici refused to send: only these may cool an instance down.
 */
export function isNetworkError(err: unknown): boolean {
  const code = networkCode(err);
  return code !== undefined && !CLIENT_SIDE.has(code);
}

const PHRASES: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ECONNRESET: 'connection reset',
  EPIPE: 'connection closed while sending',
  ETIMEDOUT: 'connection timed out',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  UND_ERR_CONNECT_TIMEOUT: 'connect timeout',
  UND_ERR_SOCKET: 'connection closed by the backend',
  UND_ERR_HEADERS_TIMEOUT: 'no response headers in time',
  UND_ERR_BODY_TIMEOUT: 'the response body stalled',
};

/**
 * A short, model-readable description of a network failure: the error code and what it means,
 * never the message, which names internal addresses.
 */
export function describeNetworkError(err: unknown): string {
  const code = networkCode(err);
  if (code === undefined) return 'network error';
  const phrase = PHRASES[code];
  return phrase ? `${phrase} (${code})` : code;
}
