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
