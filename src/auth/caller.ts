import { ANONYMOUS, type Principal } from '../session/store.js';

/** Who is calling, as far as the gateway verified it. Sessions bind to `principal` (issuer + subject). */
export interface Caller {
  readonly principal: Principal;
  readonly scopes: readonly string[];
  readonly roles: readonly string[];
  /** The OAuth client the token was issued to (`client_id` or `azp`), when the token says. */
  readonly clientId?: string;
  readonly claims: Readonly<Record<string, unknown>>;
}

export const ANONYMOUS_CALLER: Caller = Object.freeze({ principal: ANONYMOUS, scopes: [], roles: [], claims: {} });

/** Scopes of `needed` the caller lacks. */
export function missingScopes(caller: Caller, needed: readonly string[]): string[] {
  return needed.filter((s) => !caller.scopes.includes(s));
}

/** Where a caller's own bearer token is kept: a non-enumerable symbol, so no log, audit or policy input shows it. */
const BEARER = Symbol('bearer');

/**
 * The caller with the token it presented attached out of sight, for the one use that needs the
 * token itself: exchanging it for a backend's token (RFC 8693). Copies of the caller lose it.
 */
export function withBearer(caller: Caller, token: string): Caller {
  Object.defineProperty(caller, BEARER, { value: token, enumerable: false });
  return caller;
}

/** The bearer token a caller presented, when it was verified from one. */
export function bearerOf(caller: Caller): string | undefined {
  return (caller as { [BEARER]?: string })[BEARER];
}
