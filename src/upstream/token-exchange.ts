/**
 * On-behalf-of tokens (RFC 8693): the caller's access token exchanged at the identity provider
 * for one whose audience is a backend, cached per caller token and backend.
 *
 * The cache key is the backend (name, audience, scope) and the caller's issuer, subject and the
 * digest of its whole token. Keying on the token itself, not only on who the caller is, is what
 * makes reuse safe: an exchanged token carries what the identity provider derived from that one
 * subject token (its scopes, its client, its session), so another token of the same user — a
 * narrower one, one from another client, one after a new sign-in — gets its own exchange. The
 * price is one exchange per backend each time a client refreshes its token.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { bearerOf, type Caller } from '../auth/caller.js';
import type { TokenExchangeConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { readSecret } from './secret-ref.js';
import { requestToken, reuseUntil, TokenRefused } from './token-endpoint.js';

export const TOKEN_EXCHANGE_GRANT = 'urn:ietf:params:oauth:grant-type:token-exchange';
export const ACCESS_TOKEN_TYPE = 'urn:ietf:params:oauth:token-type:access_token';

/** How each exchange ended, for metrics: issued by the identity provider, or why not. */
export type ExchangeOutcome = 'exchanged' | 'cached' | 'refused' | 'unavailable';

export interface TokenExchangerOptions {
  readonly dispatcher: Dispatcher;
  readonly logger: Logger;
  /** Most exchanged tokens kept; the least recently used is dropped first. */
  readonly maxEntries: number;
  /** Told of every token asked for (metrics). */
  readonly onOutcome?: (backend: string, outcome: ExchangeOutcome) => void;
  readonly now?: () => number;
  readonly env?: NodeJS.ProcessEnv;
}

interface Cached {
  readonly token: string;
  readonly expires: number;
}

export class TokenExchanger {
  /** Insertion order is recency order: a hit moves its entry to the end. */
  private readonly cache = new Map<string, Cached>();
  /** Exchanges on their way: concurrent calls for one key share one. */
  private readonly pending = new Map<string, Promise<string>>();
  /** Each verified caller's token digest, hashed once: the verifier hands out one Caller per token. */
  private readonly digests = new WeakMap<Caller, string>();
  private readonly now: () => number;

  constructor(private readonly opts: TokenExchangerOptions) {
    this.now = opts.now ?? Date.now;
  }

  get size(): number {
    return this.cache.size;
  }

  /** A token for `backend` on behalf of `caller`; rejects with a `GW_TOKEN_EXCHANGE_…` GatewayError. */
  token(backend: string, cfg: TokenExchangeConfig, caller: Caller): Promise<string> {
    const subjectToken = bearerOf(caller);
    if (subjectToken === undefined) {
      this.opts.onOutcome?.(backend, 'refused');
      return Promise.reject(new GatewayError('GW_TOKEN_EXCHANGE_REFUSED', `backend "${backend}" acts on the caller's behalf, and this request carries no caller token`));
    }
    const key = cacheKey(backend, cfg, caller, this.digestOf(caller, subjectToken));
    const hit = this.cache.get(key);
    if (hit && hit.expires > this.now()) {
      this.cache.delete(key);
      this.cache.set(key, hit);
      this.opts.onOutcome?.(backend, 'cached');
      return Promise.resolve(hit.token);
    }
    if (hit) this.cache.delete(key);
    let p = this.pending.get(key);
    if (!p) {
      p = this.exchange(key, backend, cfg, caller, subjectToken).finally(() => this.pending.delete(key));
      this.pending.set(key, p);
    }
    return p;
  }

  /** Forget the exchanged token (the backend answered 401 with it), so the next call exchanges again. */
  invalidate(backend: string, cfg: TokenExchangeConfig, caller: Caller): void {
    const subjectToken = bearerOf(caller);
    if (subjectToken !== undefined) this.cache.delete(cacheKey(backend, cfg, caller, this.digestOf(caller, subjectToken)));
  }

  private async exchange(key: string, backend: string, cfg: TokenExchangeConfig, caller: Caller, subjectToken: string): Promise<string> {
    const form = new URLSearchParams({
      grant_type: TOKEN_EXCHANGE_GRANT,
      subject_token: subjectToken,
      subject_token_type: ACCESS_TOKEN_TYPE,
      requested_token_type: ACCESS_TOKEN_TYPE,
      audience: cfg.audience,
    });
    if (cfg.scope) form.set('scope', cfg.scope);
    let secret: string;
    try {
      secret = await readSecret(cfg.clientSecret, this.opts.env);
    } catch (err) {
      return this.fail(backend, 'unavailable', `the gateway's client secret for backend "${backend}" is missing: ${(err as Error).message}`, err);
    }
    try {
      const issued = await requestToken(this.opts.dispatcher, cfg.tokenUrl, cfg.clientId, secret, form);
      const now = this.now();
      // Never past the subject token's own expiry: the caller's authority ends there.
      const exp = typeof caller.claims.exp === 'number' ? caller.claims.exp * 1000 : Infinity;
      const expires = Math.min(reuseUntil(now, issued.lifetimeMs), exp);
      if (expires > now) this.remember(key, { token: issued.accessToken, expires });
      this.opts.onOutcome?.(backend, 'exchanged');
      this.opts.logger.debug({ backend, audience: cfg.audience, lifetimeMs: issued.lifetimeMs }, 'caller token exchanged');
      return issued.accessToken;
    } catch (err) {
      if (err instanceof TokenRefused) {
        return this.fail(backend, 'refused', `the identity provider answered ${err.error}${err.description ? ` (${err.description})` : ''} for backend "${backend}" (audience ${cfg.audience})`, err);
      }
      return this.fail(backend, 'unavailable', `backend "${backend}": ${(err as Error).message}`, err);
    }
  }

  private digestOf(caller: Caller, subjectToken: string): string {
    let digest = this.digests.get(caller);
    if (digest === undefined) {
      digest = createHash('sha256').update(subjectToken).digest('base64url');
      this.digests.set(caller, digest);
    }
    return digest;
  }

  private remember(key: string, entry: Cached): void {
    this.cache.delete(key);
    while (this.cache.size >= this.opts.maxEntries) {
      const oldest = this.cache.keys().next().value as string;
      this.cache.delete(oldest);
    }
    this.cache.set(key, entry);
  }

  private fail(backend: string, outcome: 'refused' | 'unavailable', detail: string, cause: unknown): never {
    this.opts.onOutcome?.(backend, outcome);
    // The detail names no token: the subject token stays in the form, the secret in its reference.
    this.opts.logger.warn({ backend, outcome }, `token exchange failed: ${detail}`);
    throw new GatewayError(outcome === 'refused' ? 'GW_TOKEN_EXCHANGE_REFUSED' : 'GW_TOKEN_EXCHANGE_UNAVAILABLE', detail, { cause });
  }
}

/**
 * The cache key (the module comment says why the caller's token is in it): the backend's side in
 * clear, the caller's token only as its SHA-256, so the cache holds no caller token.
 */
function cacheKey(backend: string, cfg: TokenExchangeConfig, caller: Caller, tokenDigest: string): string {
  return JSON.stringify([backend, cfg.tokenUrl, cfg.clientId, cfg.audience, cfg.scope ?? null, caller.principal.issuer, caller.principal.subject, tokenDigest]);
}
