import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Caller } from '../auth/caller.js';
import type { BackendDescriptor } from '../catalog/model.js';
import type { SecretRef } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { readSecret } from './secret-ref.js';
import { requestToken, reuseUntil } from './token-endpoint.js';
import { TokenExchanger, type ExchangeOutcome } from './token-exchange.js';

/** Headers with this prefix carry the caller's identity; only the gateway sets them. */
export const IDENTITY_PREFIX = 'x-mcp-gateway-';

export interface OutboundCredentialsOptions {
  /** Most exchanged tokens kept (`upstream.tokenExchangeCacheEntries`). */
  readonly exchangeCacheEntries?: number;
  readonly onExchange?: (backend: string, outcome: ExchangeOutcome) => void;
}

/** The gateway's own confidential client at a token endpoint. */
interface ClientGrant {
  readonly tokenUrl: string;
  readonly clientId: string;
  readonly clientSecret: string | SecretRef;
  readonly scope?: string;
  readonly resource?: string;
}

/**
 * What the gateway sends a backend to say who it is and on whose behalf: the backend's static
 * headers, an OAuth2 client-credentials token of the gateway's own, or the caller's token exchanged
 * for one of the backend (RFC 8693) — never the client's token itself — and, if the backend wants
 * them, identity headers built from the verified caller.
 */
export class OutboundCredentials {
  private readonly tokens = new Map<string, { value: string; expires: number }>();
  private readonly pending = new Map<string, Promise<string>>();
  private readonly exchanger: TokenExchanger;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
    opts: OutboundCredentialsOptions = {},
  ) {
    this.exchanger = new TokenExchanger({ dispatcher, logger, maxEntries: opts.exchangeCacheEntries ?? 10_000, ...(opts.onExchange ? { onOutcome: opts.onExchange } : {}) });
  }

  /**
   * Headers for one request to `backend`; `extra` (e.g. from a REST mapping) cannot set identity
   * headers. `caller` is absent for requests the gateway makes on its own (discovery).
   */
  async headers(backend: BackendDescriptor, caller: Caller | undefined, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const out: Record<string, string> = { ...backend.headers };
    for (const [k, v] of Object.entries(extra)) if (!k.toLowerCase().startsWith(IDENTITY_PREFIX)) out[k] = v;
    for (const k of Object.keys(out)) if (k.toLowerCase().startsWith(IDENTITY_PREFIX)) delete out[k];
    const token = await this.bearerFor(backend, caller);
    if (token !== undefined) out.authorization = `Bearer ${token}`;
    if (backend.identityHeaders && caller) {
      out[`${IDENTITY_PREFIX}subject`] = caller.principal.subject;
      if (caller.principal.issuer) out[`${IDENTITY_PREFIX}issuer`] = caller.principal.issuer;
      if (caller.clientId) out[`${IDENTITY_PREFIX}client`] = caller.clientId;
    }
    return out;
  }

  /**
   * Forget a backend's token (after the backend answered 401), so the next call fetches a new
   * one: the gateway's own token, or the exchanged token of `caller`.
   */
  invalidate(backend: BackendDescriptor, caller?: Caller): void {
    const c = backend.credentials;
    if (c.type === 'oauth2-token-exchange' && caller) this.exchanger.invalidate(backend.name, c, caller);
    else this.tokens.delete(backend.name);
  }

  private bearerFor(backend: BackendDescriptor, caller: Caller | undefined): Promise<string | undefined> {
    const c = backend.credentials;
    if (c.type === 'oauth2-client-credentials') return this.clientToken(backend.name, c);
    if (c.type !== 'oauth2-token-exchange') return Promise.resolve(undefined);
    if (caller) return this.exchanger.token(backend.name, c, caller);
    return c.withoutCaller === 'client-credentials' ? this.clientToken(backend.name, c) : Promise.resolve(undefined);
  }

  /** The gateway's own token for a backend (client credentials grant), shared by all its callers. */
  private clientToken(backend: string, grant: ClientGrant): Promise<string> {
    const cached = this.tokens.get(backend);
    if (cached && cached.expires > Date.now()) return Promise.resolve(cached.value);
    let p = this.pending.get(backend);
    if (!p) {
      p = this.fetchClientToken(backend, grant).finally(() => this.pending.delete(backend));
      this.pending.set(backend, p);
    }
    return p;
  }

  private async fetchClientToken(backend: string, grant: ClientGrant): Promise<string> {
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (grant.scope) form.set('scope', grant.scope);
    if (grant.resource) form.set('resource', grant.resource);
    try {
      const secret = typeof grant.clientSecret === 'string' ? grant.clientSecret : await readSecret(grant.clientSecret);
      const issued = await requestToken(this.dispatcher, grant.tokenUrl, grant.clientId, secret, form);
      this.tokens.set(backend, { value: issued.accessToken, expires: reuseUntil(Date.now(), issued.lifetimeMs) });
      return issued.accessToken;
    } catch (err) {
      this.logger.warn({ backend, err: (err as Error).message }, 'cannot get a token for the backend');
      throw new GatewayError('GW_UPSTREAM_UNAVAILABLE', `cannot get credentials for backend "${backend}": ${(err as Error).message}`, { cause: err });
    }
  }
}
