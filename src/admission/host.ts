import { globMatcher } from '../glob.js';
import { reject, type Refusal } from './decision.js';

/**
 * Host allow-list: the DNS-rebinding defence for clients that send no Origin (and for the
 * gateway's own endpoints, which a rebound web page could otherwise read). A page that rebinds
 * `evil.example.com` to 127.0.0.1 still sends `Host: evil.example.com`; only names the operator
 * lists are served. Patterns are host names or addresses (IPv6 in brackets), matched without the
 * port, case-insensitively; `*` matches one or more labels (`*.example.com`), and `*` alone
 * matches any host.
 */

/** `host[:port]` as RFC 9110 allows it: a reg-name or IPv4 address, or a bracketed IPv6 literal. */
const HOST_HEADER = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9._~-]+)(?::\d{1,5})?$/;

/** Loopback names: the default allow-list of a gateway bound to a loopback address. */
export const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '[::1]'] as const;

export type HostCheck = { ok: true } | { ok: false; malformed: boolean };

/** Whether a listener address only accepts connections from this machine. */
export function isLoopbackAddress(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[(.*)\]$/, '$1');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

/**
 * The hosts to serve: `allowedHosts` when configured; otherwise loopback names when the gateway
 * is bound to loopback (nothing else can reach it honestly), and any host when it is not.
 */
export function effectiveAllowedHosts(allowedHosts: readonly string[] | undefined, bindHost: string): readonly string[] {
  if (allowedHosts !== undefined) return allowedHosts;
  return isLoopbackAddress(bindHost) ? LOOPBACK_HOSTS : ['*'];
}

/** A matcher for one allow-list, built once. A malformed Host is refused even when any host is allowed. */
export function hostMatcher(patterns: readonly string[]): (host: string | undefined) => HostCheck {
  const any = patterns.includes('*');
  const allowed = globMatcher(patterns.map((p) => p.toLowerCase()), { star: '.+' });
  return (host) => {
    const m = host === undefined ? null : HOST_HEADER.exec(host);
    if (!m) return { ok: false, malformed: true };
    const name = m[1]!.toLowerCase();
    return any || allowed(name) ? { ok: true } : { ok: false, malformed: false };
  };
}

/** The refusal for a Host the check did not pass (400 malformed, 403 not allowed), or undefined. */
export function hostRejection(check: HostCheck, host: string | undefined): Refusal | undefined {
  if (check.ok) return undefined;
  // The value is echoed only when it is a well-formed host, never raw bytes from the client.
  return check.malformed ? reject('GW_HOST_INVALID', null, host === undefined ? 'the request has no Host' : undefined) : reject('GW_HOST_NOT_ALLOWED', null, `"${host}"`);
}
