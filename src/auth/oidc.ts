import { createHash } from 'node:crypto';
import { createRemoteJWKSet, errors, jwtVerify, type JWTHeaderParameters, type JWTPayload } from 'jose';
import type { Logger } from 'pino';
import { GatewayError } from '../errors.js';
import { OK, type CheckResult } from '../health.js';
import { withBearer, type Caller } from './caller.js';
import { retryUntil, settleWithin } from '../wait.js';

export interface OidcOptions {
  readonly issuer: string;
  readonly audience: string;
  readonly algorithms: readonly string[];
  readonly clockToleranceSeconds: number;
  readonly rolesClaim: string;
  /** Shortest time between two JWKS fetches (an unknown `kid` triggers one; rotation is picked up this way). */
  readonly jwksCooldownMs?: number;
  /** How often the JWKS is fetched again in the background, so keys the issuer withdrew stop verifying cached tokens. */
  readonly jwksRefreshMs?: number;
  readonly logger: Logger;
  /** Accepted `typ` header values (case-insensitive, `application/` optional); a token without `typ` is accepted. */
  readonly tokenTypes: readonly string[];
}

/** `typ` compared as media types are: case-insensitively, with `application/` implied. */
function normalizeTyp(typ: string): string {
  return typ.toLowerCase().replace(/^application\//, '');
}

/** A token that cannot be accepted; `description` is safe to show the client. */
export class InvalidTokenError extends Error {
  readonly code = 'GW_INVALID_TOKEN';
}

const MAX_CACHED = 10_000;

/** A verified token: who it names, until when, and the key that signed it. */
interface Verified {
  readonly caller: Caller;
  readonly expMs: number;
  /** The signing key's `kid`; a token without one is bound to the key set it was verified against. */
  readonly kid: string | undefined;
  readonly keySet: number;
}

/**
 * Verifies bearer JWTs against the issuer's keys, found through OIDC discovery in the background.
 * Verified tokens are remembered until they expire, so a client's repeated requests cost a hash
 * lookup instead of a signature check — but only while the key that signed them is still
 * published: the JWKS is fetched again every `jwksRefreshMs`, and a token whose key the issuer
 * withdrew (rotation, compromise) is verified again, and refused.
 */
export class OidcVerifier {
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private discovery: Promise<void> | undefined;
  private readonly verified = new Map<string, Verified>();
  /** The `kid`s of the keys last fetched, and a number that changes whenever that set does. */
  private liveKids = new Set<string>();
  private keySet = 0;
  private refresher: NodeJS.Timeout | undefined;
  /** Ends discovery's retries, during a pause too. */
  private readonly stopped = new AbortController();
  private readonly tokenTypes: ReadonlySet<string>;

  constructor(private readonly opts: OidcOptions) {
    this.tokenTypes = new Set(opts.tokenTypes.map(normalizeTyp));
  }

  /** Start discovery; retried with backoff until it succeeds. Resolves after the first attempt. */
  async start(): Promise<void> {
    this.discovery = this.discover();
    await settleWithin(this.discovery, 5_000);
  }

  stop(): void {
    this.stopped.abort();
    clearInterval(this.refresher);
  }

  /** Readiness: tokens can be verified once the issuer's keys were fetched. */
  status(): CheckResult {
    return this.jwks ? OK : { ok: false, reason: `the issuer ${this.opts.issuer} has not been reached yet` };
  }

  async verify(token: string): Promise<Caller> {
    const key = createHash('sha256').update(token).digest('base64url');
    const hit = this.verified.get(key);
    if (hit && hit.expMs > Date.now() && this.keyLive(hit)) return hit.caller;
    if (!this.jwks) throw new GatewayError('GW_AUTH_UNAVAILABLE', `the issuer ${this.opts.issuer} has not been reached yet`);
    let payload: JWTPayload;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, this.jwks, {
        issuer: this.opts.issuer,
        audience: this.opts.audience,
        algorithms: [...this.opts.algorithms],
        clockTolerance: this.opts.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (err) {
      throw new InvalidTokenError(describe(err), { cause: err });
    }
    this.checkBeyondJose(header, payload);
    const kid = header.kid;
    // Cached by this token's digest, so the caller carries exactly the token it was verified from.
    const caller = withBearer(this.toCaller(payload), token);
    // A verification may have fetched the key set again (an unknown kid): learn what it holds now.
    this.syncKeys();
    if (this.verified.size >= MAX_CACHED) this.evict();
    this.verified.set(key, { caller, expMs: (payload.exp! + this.opts.clockToleranceSeconds) * 1000, kid, keySet: this.keySet });
    return caller;
  }

  /**
   * What jose leaves to the caller: a `typ` that says the JWT is something other than an access
   * token (an ID token, a logout or DPoP proof), an `iat` in the future (a token minted with a
   * skewed or forged clock), and an empty `sub` (no one to bind a session or a policy to).
   */
  private checkBeyondJose(header: JWTHeaderParameters, p: JWTPayload): void {
    if (header.typ !== undefined && !this.tokenTypes.has(normalizeTyp(header.typ))) {
      throw new InvalidTokenError(`the token type "${header.typ}" is not an access token type accepted here`);
    }
    if (typeof p.iat === 'number' && p.iat > Date.now() / 1000 + this.opts.clockToleranceSeconds) throw new InvalidTokenError('claim "iat" is in the future');
    if (typeof p.sub !== 'string' || p.sub.trim() === '') throw new InvalidTokenError('claim "sub" must be a non-empty string');
  }

  private keyLive(v: Verified): boolean {
    return v.kid === undefined ? v.keySet === this.keySet : this.liveKids.has(v.kid);
  }

  /** Read the key ids of the set jose holds; forget cached tokens whose key is gone. */
  private syncKeys(): void {
    const keys = this.jwks?.jwks()?.keys ?? [];
    const kids = new Set(keys.map((k) => k.kid).filter((k): k is string => typeof k === 'string'));
    const same = kids.size === this.liveKids.size && [...kids].every((k) => this.liveKids.has(k));
    if (same) return;
    this.liveKids = kids;
    this.keySet++;
    for (const [k, v] of this.verified) if (!this.keyLive(v)) this.verified.delete(k);
  }

  /** Fetch the key set again; while the issuer cannot be reached, the last set stays in force. */
  private async refreshKeys(): Promise<void> {
    try {
      await this.jwks?.reload();
      this.syncKeys();
    } catch (err) {
      this.opts.logger.warn({ issuer: this.opts.issuer, err: (err as Error).message }, 'JWKS refresh failed; keeping the last key set');
    }
  }

  /** Drop expired tokens; if still full, the oldest tenth (Map order is insertion order). */
  private evict(): void {
    const now = Date.now();
    for (const [k, v] of this.verified) if (v.expMs <= now) this.verified.delete(k);
    let extra = this.verified.size - MAX_CACHED * 0.9;
    for (const k of this.verified.keys()) {
      if (extra-- <= 0) break;
      this.verified.delete(k);
    }
  }

  private toCaller(p: JWTPayload): Caller {
    const scopes = typeof p.scope === 'string' ? p.scope.split(' ').filter(Boolean) : Array.isArray(p.scp) ? p.scp.map(String) : typeof p.scp === 'string' ? p.scp.split(' ') : [];
    const rawRoles = claimAt(p, this.opts.rolesClaim);
    const roles = Array.isArray(rawRoles) ? rawRoles.map(String) : typeof rawRoles === 'string' ? rawRoles.split(' ').filter(Boolean) : [];
    const clientId = typeof p.client_id === 'string' ? p.client_id : typeof p.azp === 'string' ? p.azp : undefined;
    const caller: Caller = { principal: { issuer: p.iss!, subject: p.sub! }, scopes, roles, claims: p };
    return clientId === undefined ? caller : { ...caller, clientId };
  }

  private async discover(): Promise<void> {
    const wellKnown = `${this.opts.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
    await retryUntil(
      async () => {
        const res = await fetch(wellKnown, { signal: AbortSignal.timeout(5_000) });
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const doc = (await res.json()) as { issuer?: string; jwks_uri?: string };
        if (doc.issuer !== this.opts.issuer) throw new Error(`discovery names issuer "${doc.issuer}", expected "${this.opts.issuer}"`);
        if (typeof doc.jwks_uri !== 'string') throw new Error('discovery document has no jwks_uri');
        this.jwks = createRemoteJWKSet(new URL(doc.jwks_uri), { cooldownDuration: this.opts.jwksCooldownMs ?? 30_000, timeoutDuration: 5_000 });
        await this.refreshKeys();
        this.refresher = setInterval(() => void this.refreshKeys(), this.opts.jwksRefreshMs ?? 300_000).unref();
        this.opts.logger.info({ issuer: this.opts.issuer, jwks: doc.jwks_uri }, 'OIDC discovery done');
      },
      {
        firstMs: 500,
        maxMs: 30_000,
        signal: this.stopped.signal,
        onFailure: (err, attempt) => this.opts.logger.warn({ issuer: this.opts.issuer, attempt, err: (err as Error).message }, 'OIDC discovery failed; retrying'),
      },
    );
  }
}

function claimAt(p: JWTPayload, path: string): unknown {
  let v: unknown = p;
  for (const k of path.split('.')) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined;
  return v;
}

function describe(err: unknown): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `claim "${err.claim}" is not acceptable (${err.reason})`;
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token is signed with an algorithm that is not allowed';
  if (err instanceof errors.JWKSNoMatchingKey) return 'no key of the issuer matches the token';
  if (err instanceof errors.JWSSignatureVerificationFailed) return 'the token signature is invalid';
  if (err instanceof errors.JWSInvalid || err instanceof errors.JWTInvalid) return 'the token is malformed';
  return 'the token could not be verified';
}
