/**
 * Origin allow-list (the transport spec's DNS-rebinding defence). Patterns are exact origins or
 * use `*` as a wildcard, e.g. `http://localhost:*`. Requests without an Origin header
 * (non-browser clients) are allowed.
 */
export function originMatcher(patterns: readonly string[]): (origin: string | undefined) => boolean {
  const regexes = patterns.map((p) => new RegExp(`^${p.split('*').map(escapeRegExp).join('[^/]*')}$`, 'i'));
  return (origin) => origin === undefined || regexes.some((r) => r.test(origin));
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
