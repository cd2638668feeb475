import type { GatewayConfig } from '../config/schema.js';
import type { ErrorCode } from '../errors.js';
import { GatewayError } from '../errors.js';
import { extractBearer } from './bearer.js';
import { ANONYMOUS_CALLER, missingScopes, type Caller } from './caller.js';
import { metadataUrl, wwwAuthenticate } from './challenge.js';
import { endpointOf } from '../endpoint.js';
import { InvalidTokenError, type OidcVerifier } from './oidc.js';

/** What a request presents for authentication. */
export interface Credentials {
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Path and query of the request (to refuse tokens in the query string). */
  readonly url?: string;
}

export type AuthOutcome =
  | { ok: true; caller: Caller }
  | { ok: false; code: ErrorCode; detail?: string; headers: Record<string, string> };

/** Port: who is calling. The admission core asks it first, for every request. */
export interface Authenticator {
  authenticate(req: Credentials): Promise<AuthOutcome>;
  /** The 403 answer for a caller that lacks scopes needed further in (a backend's `requiredScopes`). */
  insufficientScope(req: Credentials, missing: readonly string[]): AuthOutcome & { ok: false };
}

/** No authentication configured: everyone is the anonymous caller. */
export class AnonymousAuthenticator implements Authenticator {
  async authenticate(): Promise<AuthOutcome> {
    return { ok: true, caller: ANONYMOUS_CALLER };
  }
  insufficientScope(): AuthOutcome & { ok: false } {
    return { ok: false, code: 'GW_INSUFFICIENT_SCOPE', headers: {} };
  }
}

/**
 * OAuth 2.1 bearer tokens as the MCP authorization spec asks: verified JWTs bound to this
 * resource (audience), 401 with a `WWW-Authenticate` challenge that points to the
 * protected-resource metadata, 403 `insufficient_scope` naming the scopes needed.
 */
export class BearerAuthenticator implements Authenticator {
  constructor(
    private readonly cfg: NonNullable<GatewayConfig['auth']>,
    private readonly verifier: OidcVerifier,
    private readonly endpointPath: string,
  ) {}

  /**
   * The public URL of the MCP endpoint: configured, or from the request's Host header. A virtual
   * server's is the endpoint's URL with `/<name>` appended: its own resource, with its own metadata.
   */
  resourceFor(headers: Credentials['headers'], virtualServer: string | null = null): string {
    const suffix = virtualServer === null ? '' : `/${virtualServer}`;
    if (this.cfg.resource) return suffix === '' ? this.cfg.resource : `${this.cfg.resource.replace(/\/$/, '')}${suffix}`;
    const proto = headers['x-forwarded-proto'] === 'https' ? 'https' : 'http';
    return `${proto}://${headers.host ?? 'localhost'}${this.endpointPath}${suffix}`;
  }

  async authenticate(req: Credentials): Promise<AuthOutcome> {
    const bearer = extractBearer(req.headers, req.url, this.cfg.maxTokenBytes);
    if (!bearer.ok) {
      const challenge = wwwAuthenticate({ resourceMetadata: this.metadataFor(req), ...(bearer.error ? { error: bearer.error } : {}), ...(bearer.description ? { description: bearer.description } : {}) });
      return { ok: false, code: 'GW_UNAUTHORIZED', detail: bearer.description ?? 'a bearer token is required', headers: { 'www-authenticate': challenge } };
    }
    let caller: Caller;
    try {
      caller = await this.verifier.verify(bearer.token);
    } catch (err) {
      if (err instanceof InvalidTokenError) {
        const challenge = wwwAuthenticate({ resourceMetadata: this.metadataFor(req), error: 'invalid_token', description: err.message });
        return { ok: false, code: 'GW_UNAUTHORIZED', detail: err.message, headers: { 'www-authenticate': challenge } };
      }
      if (err instanceof GatewayError) return { ok: false, code: err.code, ...(err.detail ? { detail: err.detail } : {}), headers: { 'retry-after': '5' } };
      throw err;
    }
    const missing = missingScopes(caller, this.cfg.requiredScopes);
    if (missing.length > 0) return this.insufficientScope(req, missing);
    return { ok: true, caller };
  }

  /** The RFC 9728 metadata URL a refusal points at (built only for refusals). */
  private metadataFor(req: Credentials): string {
    return metadataUrl(this.resourceFor(req.headers, endpointOf(req.url ?? this.endpointPath, this.endpointPath) ?? null));
  }

  insufficientScope(req: Credentials, missing: readonly string[]): AuthOutcome & { ok: false } {
    const scope = missing.join(' ');
    const challenge = wwwAuthenticate({ resourceMetadata: this.metadataFor(req), error: 'insufficient_scope', scope, description: `needs scope ${scope}` });
    return { ok: false, code: 'GW_INSUFFICIENT_SCOPE', detail: `needs scope ${scope}`, headers: { 'www-authenticate': challenge } };
  }
}
