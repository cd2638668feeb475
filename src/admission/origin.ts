import { globMatcher } from '../glob.js';

/**
 * Origin allow-list (the transport spec's DNS-rebinding defence). Patterns are exact origins or
 * use `*` as a wildcard, e.g. `http://localhost:*`. Requests without an Origin header
 * (non-browser clients) are allowed.
 */
export function originMatcher(patterns: readonly string[]): (origin: string | undefined) => boolean {
  const allowed = globMatcher(patterns, { star: '[^/]*', ignoreCase: true });
  return (origin) => origin === undefined || allowed(origin);
}

/** Response headers a browser may read: the session id, and the challenge of a 401/403. */
const CORS_EXPOSE_HEADERS = 'mcp-session-id, www-authenticate';

/** The CORS headers of an answer to `origin` when it is allowed (none otherwise): the same for every adapter. */
export function corsHeaders(origin: string | undefined, allowed: (origin: string | undefined) => boolean): Record<string, string> {
  return origin !== undefined && allowed(origin) ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSE_HEADERS, vary: 'Origin' } : {};
}
