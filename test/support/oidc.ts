import { createServer, type RequestListener } from 'node:http';
import { exportJWK, generateKeyPair, type JWK } from 'jose';
import Provider from 'oidc-provider';
import { closeServer, listen } from '../../examples/backends/listen.js';

type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];

/** A test client of the provider and the claims its tokens carry. */
export interface TestClient {
  readonly id: string;
  readonly claims?: Record<string, unknown>;
  /** Scopes the client may ask for (space-separated). */
  readonly scope?: string;
}

export interface TestIdp {
  readonly issuer: string;
  /** The signing key the provider uses now (tests forge attack tokens with it). */
  readonly signingKey: { privateKey: PrivateKey; kid: string };
  /** A real access token for `audience`, issued by the provider (client credentials grant). */
  token(client: string, opts?: { scope?: string; audience?: string }): Promise<string>;
  /** Restart the provider with a new signing key (key rotation). */
  rotate(): Promise<void>;
  close(): Promise<void>;
}

async function signingKey(kid: string): Promise<{ privateKey: PrivateKey; jwk: JWK; kid: string }> {
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(privateKey)), kid, alg: 'RS256', use: 'sig' }, kid };
}

/**
 * A real OpenID provider (the npm package oidc-provider) on a free loopback port, issuing JWT
 * access tokens with the client-credentials grant and RFC 8707 resource indicators.
 */
export async function startIdp(clients: TestClient[], audience: string, port = 0): Promise<TestIdp> {
  let key = await signingKey('key-1');
  let generation = 1;
  const claimsOf = new Map(clients.map((c) => [c.id, c.claims ?? {}]));
  // Listen first: the issuer URL names the port. Rotation swaps the provider behind the server.
  let handler: RequestListener = (_req, res) => void res.writeHead(503).end();
  const server = createServer((req, res) => handler(req, res));
  const issuer = await listen(server, port);

  const start = (): void => {
    const provider = new Provider(issuer, {
      clients: clients.map((c) => ({ client_id: c.id, client_secret: `${c.id}-secret`, grant_types: ['client_credentials'], redirect_uris: [], response_types: [], scope: c.scope ?? 'tools:call orders:write' })),
      jwks: { keys: [key.jwk] },
      scopes: ['tools:call', 'orders:write', 'orders:read', 'mcp-gateway:admin'],
      features: {
        clientCredentials: { enabled: true },
        devInteractions: { enabled: false },
        resourceIndicators: {
          enabled: true,
          defaultResource: () => audience,
          useGrantedResource: () => true,
          getResourceServerInfo: (_ctx: unknown, resource: string) => ({ scope: 'tools:call orders:write orders:read mcp-gateway:admin', audience: resource, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'RS256' } } }),
        },
      },
      ttl: { ClientCredentials: 600 },
      extraTokenClaims: (_ctx: unknown, token: { clientId?: string }) => claimsOf.get(token.clientId ?? '') ?? {},
    } as never);
    handler = provider.callback() as RequestListener;
  };

  start();
  return {
    issuer,
    get signingKey() {
      return { privateKey: key.privateKey, kid: key.kid };
    },
    async token(client, opts = {}) {
      const body = new URLSearchParams({ grant_type: 'client_credentials', resource: opts.audience ?? audience });
      if (opts.scope) body.set('scope', opts.scope);
      const res = await fetch(`${issuer}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${client}:${client}-secret`).toString('base64')}` },
        body,
      });
      const json = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
      if (!json.access_token) throw new Error(`token request failed: ${res.status} ${json.error} ${json.error_description}`);
      return json.access_token;
    },
    async rotate() {
      key = await signingKey(`key-${++generation}`);
      start();
    },
    close: () => closeServer(server),
  };
}
