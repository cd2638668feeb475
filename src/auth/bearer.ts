/** Why a request carries no usable bearer token (RFC 6750 error codes). */
export type BearerProblem = { error?: 'invalid_request' | 'invalid_token'; description?: string };

export type BearerResult = { ok: true; token: string } | ({ ok: false } & BearerProblem);

const BEARER = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)$/i;

/**
 * The access token of a request: only from the Authorization header. Tokens in the query string
 * are refused (they end up in logs and Referer headers; the MCP authorization spec forbids them).
 */
export function extractBearer(headers: Readonly<Record<string, string | undefined>>, url: string | undefined, maxBytes: number): BearerResult {
  if (url && /[?&]access_token=/.test(url)) {
    return { ok: false, error: 'invalid_request', description: 'access tokens are accepted only in the Authorization header, not in the query string' };
  }
  const header = headers.authorization;
  if (header === undefined || header === '') return { ok: false };
  if (header.length > maxBytes + 7) return { ok: false, error: 'invalid_token', description: `token longer than ${maxBytes} bytes` };
  const m = BEARER.exec(header.trim());
  if (!m) return { ok: false, error: 'invalid_request', description: 'the Authorization header must be "Bearer <token>"' };
  return { ok: true, token: m[1]! };
}
