import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { Caller } from '../auth/caller.js';
import type { BackendDescriptor } from '../catalog/model.js';
import { GatewayError } from '../errors.js';

/** Headers with this prefix carry the caller's identity; only the gateway sets them. */
export const IDENTITY_PREFIX = 'x-mcp-gateway-';

/**
 * What the gateway sends a backend to say who it is and on whose behalf: the backend's static
 * headers, an OAuth2 client-credentials token of the gateway's own (never the client's token),
 * and, if the backend wants them, identity headers built from the verified caller.
 */
export class OutboundCredentials {
  private readonly tokens = new Map<string, { value: string; expires: number }>();
  private readonly pending = new Map<string, Promise<string>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {}

  /** Headers for one request to `backend`; `extra` (e.g. from a REST mapping) cannot set identity headers. */
  async headers(backend: BackendDescriptor, caller: Caller | undefined, extra: Record<string, string> = {}): Promise<Record<string, string>> {
    const out: Record<string, string> = { ...backend.headers };
    for (const [k, v] of Object.entries(extra)) if (!k.toLowerCase().startsWith(IDENTITY_PREFIX)) out[k] = v;
    for (const k of Object.keys(out)) if (k.toLowerCase().startsWith(IDENTITY_PREFIX)) delete out[k];
    if (backend.credentials.type === 'oauth2-client-credentials') out.authorization = `Bearer ${await this.token(backend)}`;
    if (backend.identityHeaders && caller) {
      out[`${IDENTITY_PREFIX}subject`] = caller.principal.subject;
      if (caller.principal.issuer) out[`${IDENTITY_PREFIX}issuer`] = caller.principal.issuer;
      if (caller.clientId) out[`${IDENTITY_PREFIX}client`] = caller.clientId;
    }
    return out;
  }

  /** Forget a backend's token (after the backend answered 401), so the next call fetches a new one. */
  invalidate(backend: string): void {
    this.tokens.delete(backend);
  }

  private token(backend: BackendDescriptor): Promise<string> {
    const cached = this.tokens.get(backend.name);
    if (cached && cached.expires > Date.now()) return Promise.resolve(cached.value);
    let p = this.pending.get(backend.name);
    if (!p) {
      p = this.fetchToken(backend).finally(() => this.pending.delete(backend.name));
      this.pending.set(backend.name, p);
    }
    return p;
  }

  private async fetchToken(backend: BackendDescriptor): Promise<string> {
    const c = backend.credentials;
    if (c.type !== 'oauth2-client-credentials') throw new Error('no client credentials');
    const form = new URLSearchParams({ grant_type: 'client_credentials' });
    if (c.scope) form.set('scope', c.scope);
    if (c.resource) form.set('resource', c.resource);
    const url = new URL(c.tokenUrl);
    try {
      const res = await this.dispatcher.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${encodeURIComponent(c.clientId)}:${encodeURIComponent(c.clientSecret)}`).toString('base64')}` },
        body: form.toString(),
        signal: AbortSignal.timeout(5_000),
      });
      const body = (await res.body.json()) as { access_token?: string; expires_in?: number; error?: string };
      if (res.statusCode !== 200 || typeof body.access_token !== 'string') throw new Error(`token endpoint answered HTTP ${res.statusCode}${body.error ? ` (${body.error})` : ''}`);
      const lifetimeMs = (typeof body.expires_in === 'number' ? body.expires_in : 300) * 1000;
      this.tokens.set(backend.name, { value: body.access_token, expires: Date.now() + Math.max(lifetimeMs - 30_000, lifetimeMs / 2) });
      return body.access_token;
    } catch (err) {
      this.logger.warn({ backend: backend.name, err: (err as Error).message }, 'cannot get a token for the backend');
      throw new GatewayError('GW_UPSTREAM_UNAVAILABLE', `cannot get credentials for backend "${backend.name}": ${(err as Error).message}`, { cause: err });
    }
  }
}
