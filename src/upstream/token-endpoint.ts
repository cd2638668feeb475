/**
 * One request to an OAuth 2.0 token endpoint as a confidential client (client_secret_basic), as
 * both the gateway's own client-credentials tokens and token exchange (RFC 8693) make it.
 */
import type { Dispatcher } from 'undici';

/** A token the endpoint issued, and how long it said it lives. */
export interface IssuedToken {
  readonly accessToken: string;
  readonly lifetimeMs: number;
}

/**
 * The endpoint answered but refused (an OAuth error, RFC 6749 §5.2: `invalid_grant`,
 * `invalid_target`, …), as opposed to not answering usefully at all (network, 5xx, nonsense).
 */
export class TokenRefused extends Error {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string | undefined,
  ) {
    super(`token endpoint answered HTTP ${status} (${error}${description ? `: ${description}` : ''})`);
    this.name = 'TokenRefused';
  }
}

/** Lifetime assumed when the endpoint names none (`expires_in` is only RECOMMENDED). */
const DEFAULT_LIFETIME_S = 300;
const TIMEOUT_MS = 5_000;
/** Descriptions end up in tool errors and logs: keep them short. */
const MAX_DESCRIPTION = 200;

/** POST `form` to `tokenUrl` with the client's id and secret; rejects with {@link TokenRefused} or an Error saying what went wrong. */
export async function requestToken(dispatcher: Dispatcher, tokenUrl: string, clientId: string, clientSecret: string, form: URLSearchParams): Promise<IssuedToken> {
  const url = new URL(tokenUrl);
  const res = await dispatcher.request({
    origin: url.origin,
    path: url.pathname + url.search,
    method: 'POST',
    headers: {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json',
      // RFC 6749 §2.3.1: both parts form-urlencoded before Basic encoding.
      authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
    },
    body: form.toString(),
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = (await res.body.json().catch(() => undefined)) as { access_token?: unknown; expires_in?: unknown; error?: unknown; error_description?: unknown } | undefined;
  if (res.statusCode >= 400 && res.statusCode < 500 && typeof body?.error === 'string') {
    const description = typeof body.error_description === 'string' ? body.error_description.slice(0, MAX_DESCRIPTION) : undefined;
    throw new TokenRefused(res.statusCode, body.error.slice(0, 64), description);
  }
  if (res.statusCode !== 200 || typeof body?.access_token !== 'string' || body.access_token === '') {
    throw new Error(`token endpoint answered HTTP ${res.statusCode}${typeof body?.error === 'string' ? ` (${body.error.slice(0, 64)})` : res.statusCode === 200 ? ' without an access_token' : ''}`);
  }
  const expiresIn = typeof body.expires_in === 'number' && body.expires_in > 0 ? body.expires_in : DEFAULT_LIFETIME_S;
  return { accessToken: body.access_token, lifetimeMs: expiresIn * 1000 };
}

/**
 * Until when an issued token is handed out: shortly before it expires (30 s, or half its
 * lifetime when that is shorter), so a backend never receives one that expires on the way.
 */
export function reuseUntil(now: number, lifetimeMs: number): number {
  return now + Math.max(lifetimeMs - 30_000, lifetimeMs / 2);
}
