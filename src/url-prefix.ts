/**
 * URL prefixes an operator allows the gateway to fetch from on someone else's say-so (a Consul
 * registration's `mcp-openapi`). Matching is on the URL as the WHATWG parser normalises it — the
 * same parse the fetch uses — never on the text: scheme, host and port must be equal, the path must
 * continue the prefix's path at a segment boundary. A text comparison would let
 * `https://specs.example.com.evil.net/`, `https://specs.example.com@evil/`, `/apis/../secret` or
 * a different port through.
 */

/** Percent-encodings of `.`, `/`, `\` and `%` in a path: a server that decodes them may see another path than the one matched. */
const ENCODED_SEPARATOR = /%(2e|2f|5c|25)/i;

/**
 * The prefix `text` stands for, normalised (lower-case host, default port dropped), or why it
 * cannot be one: not an http(s) URL, a user name or password, a query or fragment (a prefix is
 * matched on scheme, host, port and path only), or a path the parser would silently rewrite
 * (`.`/`..` segments) or one no document URL could continue (percent-encoded separators).
 */
export function parseUrlPrefix(text: string): URL | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'must be an http(s) URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http(s) URL';
  if (url.username !== '' || url.password !== '') return 'must not contain a user name or password';
  if (text.includes('?') || text.includes('#')) return 'must not have a query (?) or fragment (#): a prefix is matched on scheme, host, port and path';
  // The parser resolves dot segments silently, so "/apis/../" would quietly allow the whole host.
  const rawPath = text.replace(/^[A-Za-z][A-Za-z0-9+.-]*:[/\\]*[^/\\]*/, '');
  if (rawPath.split(/[/\\]/).some((s) => /^(\.|%2e){1,2}$/i.test(s))) return 'must not contain "." or ".." path segments';
  if (ENCODED_SEPARATOR.test(url.pathname)) return 'must not contain percent-encoded ".", "/", "\\" or "%" in its path';
  return url;
}

/**
 * Why a URL's path cannot be trusted to mean what it says to the server that receives it, or
 * undefined: percent-encoded separators (`/apis/..%2fsecret`, `%252e` decoded twice) or a dot
 * segment with `;` parameters (`..;/`, which Tomcat and others read as `..`). Literal `.`/`..`
 * segments are already gone: the parser resolved them before anyone compares.
 */
export function ambiguousPath(url: URL): string | undefined {
  if (ENCODED_SEPARATOR.test(url.pathname)) return 'has a percent-encoded ".", "/", "\\" or "%" in its path';
  // `;` percent-encoded too (`..%3b/`): a server that decodes before reading parameters sees `..;`.
  if (url.pathname.split('/').some((s) => /^\.{1,2}(;|%3b)/i.test(s))) return 'has a "." or ".." path segment with ";" parameters';
  return undefined;
}

/**
 * Whether `url` lies under `prefix` (from {@link parseUrlPrefix}): same scheme, host and port,
 * and a path equal to the prefix's or continuing it after a `/` (`/apis` covers `/apis/x`, not
 * `/apis-private`). A URL with a user name or password, or an {@link ambiguousPath}, never does.
 */
export function isUnderPrefix(url: URL, prefix: URL): boolean {
  if (url.username !== '' || url.password !== '' || ambiguousPath(url) !== undefined) return false;
  if (url.protocol !== prefix.protocol || url.hostname !== prefix.hostname || url.port !== prefix.port) return false;
  const base = prefix.pathname;
  if (base.endsWith('/')) return url.pathname.startsWith(base);
  return url.pathname === base || url.pathname.startsWith(`${base}/`);
}
