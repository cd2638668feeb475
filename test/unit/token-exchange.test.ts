/**
 * The exchange cache and its failure modes. The real identity provider (Keycloak) is in
 * test/integration/keycloak-token-exchange.test.ts; here a node:http token endpoint scripts what
 * Keycloak cannot be made to answer on demand (short lifetimes, 5xx) and counts requests, so the
 * cache's bounds and keys can be checked exactly. Tokens are opaque strings here: the gateway
 * never reads an exchanged token.
 */
import { createServer, type IncomingMessage } from 'node:http';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Agent } from 'undici';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { withBearer, type Caller } from '../../src/auth/caller.js';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { backendSchema, type TokenExchangeConfig } from '../../src/config/schema.js';
import { GatewayError } from '../../src/errors.js';
import { OutboundCredentials } from '../../src/upstream/credentials.js';
import { TokenExchanger } from '../../src/upstream/token-exchange.js';
import { assertSecretsResolvable } from '../../src/upstream/secret-ref.js';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { deadUrl } from '../support/http-backends.js';
import { capturingLogger } from '../support/logs.js';

interface Received {
  readonly authorization: string | undefined;
  readonly form: URLSearchParams;
}

/** What the scripted endpoint answers next, and everything it was sent. */
const endpoint = { received: [] as Received[], status: 200, expiresIn: 300 as number | undefined, delayMs: 0, url: '' };
let server: ReturnType<typeof createServer>;
const dispatcher = new Agent();
let dir: string;

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    void readForm(req).then(async (form) => {
      endpoint.received.push({ authorization: req.headers.authorization, form });
      if (endpoint.delayMs) await new Promise((r) => setTimeout(r, endpoint.delayMs));
      const n = endpoint.received.length;
      if (endpoint.status === 400) return void res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: 'invalid_grant', error_description: 'subject token revoked' }));
      if (endpoint.status !== 200) return void res.writeHead(endpoint.status).end('upstream trouble');
      const body = { access_token: `exchanged-${n}-for-${form.get('audience') ?? 'gateway'}`, issued_token_type: 'urn:ietf:params:oauth:token-type:access_token', token_type: 'Bearer', expires_in: endpoint.expiresIn };
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    });
  });
  endpoint.url = `${await listen(server)}/token`;
  dir = makeTempDir('exchange-unit');
  process.env.MCP_GW_UNIT_SECRET = 'gateway secret:1';
});

afterAll(async () => {
  await closeServer(server);
  await dispatcher.close();
  removeDir(dir);
  delete process.env.MCP_GW_UNIT_SECRET;
});

beforeEach(() => {
  Object.assign(endpoint, { received: [], status: 200, expiresIn: 300, delayMs: 0 });
});

function exchangeCfg(extra: Partial<TokenExchangeConfig> = {}): TokenExchangeConfig {
  return { type: 'oauth2-token-exchange', tokenUrl: endpoint.url, clientId: 'mcp-gateway', clientSecret: { env: 'MCP_GW_UNIT_SECRET' }, audience: 'orders-api', withoutCaller: 'client-credentials', ...extra };
}

/** A backend as the configuration makes it (defaults filled in by the real schema). */
const backend = (credentials: Record<string, unknown>, name = 'orders'): BackendDescriptor => backendSchema.parse({ name, kind: 'mcp', urls: ['http://127.0.0.1:1'], credentials });

/** A verified caller as the authenticator makes it: the token it presented attached. */
function caller(subject: string, token: string, exp = Math.floor(Date.now() / 1000) + 3600): Caller {
  return withBearer({ principal: { issuer: 'https://idp.example', subject }, scopes: [], roles: [], claims: { sub: subject, exp } }, token);
}

const credentials = (opts: { exchangeCacheEntries?: number } = {}, logger = capturingLogger('debug').logger) => new OutboundCredentials(dispatcher, logger, opts);

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(GatewayError);
  return (err as GatewayError).code;
}

describe('token exchange (RFC 8693) requests', () => {
  it("asks with the caller's token as subject, the backend's audience and scope, as the gateway's own client", async () => {
    const creds = credentials();
    const headers = await creds.headers(backend(exchangeCfg({ scope: 'orders.read' })), caller('alice', 'alice-token'), { authorization: 'Bearer from-a-mapping' });
    expect(headers.authorization).toBe('Bearer exchanged-1-for-orders-api');
    const { form, authorization } = endpoint.received[0]!;
    expect(Object.fromEntries(form)).toEqual({
      grant_type: 'urn:ietf:params:oauth:grant-type:token-exchange',
      subject_token: 'alice-token',
      subject_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      requested_token_type: 'urn:ietf:params:oauth:token-type:access_token',
      audience: 'orders-api',
      scope: 'orders.read',
    });
    // client_secret_basic, each part form-encoded first (RFC 6749 §2.3.1).
    expect(authorization).toBe(`Basic ${Buffer.from('mcp-gateway:gateway%20secret%3A1').toString('base64')}`);
  });

  it('reads a secret file when it exchanges, so a rotated secret is used without a restart', async () => {
    const file = join(dir, 'secret');
    writeFileSync(file, 'first\n');
    const creds = credentials();
    const cfg = exchangeCfg({ clientSecret: { file } });
    await creds.headers(backend(cfg), caller('alice', 'token-1'));
    writeFileSync(file, 'second');
    await creds.headers(backend(cfg), caller('alice', 'token-2'));
    expect(endpoint.received.map((r) => Buffer.from(r.authorization!.slice(6), 'base64').toString())).toEqual(['mcp-gateway:first', 'mcp-gateway:second']);
  });

  it('without a caller (discovery) sends the gateway client-credentials token, or nothing', async () => {
    const creds = credentials();
    expect((await creds.headers(backend(exchangeCfg()), undefined)).authorization).toBe('Bearer exchanged-1-for-gateway');
    expect(endpoint.received[0]!.form.get('grant_type')).toBe('client_credentials');
    expect((await creds.headers(backend(exchangeCfg({ withoutCaller: 'none' }), 'quiet'), undefined)).authorization).toBeUndefined();
    expect(endpoint.received).toHaveLength(1);
  });
});

describe('client credentials (the gateway\'s own token), beside token exchange', () => {
  it('is one token for every caller, cached, and fetched again after a 401 from the backend', async () => {
    const creds = credentials();
    const b = backend({ type: 'oauth2-client-credentials', tokenUrl: endpoint.url, clientId: 'mcp-gateway', clientSecret: 'literal-secret', scope: 'orders' });
    const a = await creds.headers(b, caller('alice', 'token-1'));
    expect(await creds.headers(b, caller('bob', 'token-2'))).toEqual(a);
    expect(Object.fromEntries(endpoint.received[0]!.form)).toEqual({ grant_type: 'client_credentials', scope: 'orders' });
    creds.invalidate(b);
    expect((await creds.headers(b, undefined)).authorization).not.toBe(a.authorization);
    expect(endpoint.received).toHaveLength(2);
  });
});

describe('the exchange cache', () => {
  it('is keyed by the caller token: the same token reuses, another token of the same subject exchanges again', async () => {
    const creds = credentials();
    const b = backend(exchangeCfg());
    const first = await creds.headers(b, caller('alice', 'token-1'));
    expect(await creds.headers(b, caller('alice', 'token-1'))).toEqual(first);
    expect((await creds.headers(b, caller('alice', 'token-2'))).authorization).not.toBe(first.authorization);
    // Another backend with the same caller token is another audience: its own exchange.
    await creds.headers(backend(exchangeCfg({ audience: 'billing' }), 'billing'), caller('alice', 'token-1'));
    expect(endpoint.received.map((r) => [r.form.get('subject_token'), r.form.get('audience')])).toEqual([
      ['token-1', 'orders-api'],
      ['token-2', 'orders-api'],
      ['token-1', 'billing'],
    ]);
  });

  it('shares one exchange between concurrent calls for one key', async () => {
    endpoint.delayMs = 50;
    const creds = credentials();
    const b = backend(exchangeCfg());
    const all = await Promise.all(Array.from({ length: 8 }, () => creds.headers(b, caller('alice', 'token-1'))));
    expect(new Set(all.map((h) => h.authorization)).size).toBe(1);
    expect(endpoint.received).toHaveLength(1);
  });

  it('exchanges again once the exchanged token is close to expiring (30 s before, or half its lifetime)', async () => {
    let now = Date.now();
    const exchanger = new TokenExchanger({ dispatcher, logger: capturingLogger().logger, maxEntries: 10, now: () => now });
    const alice = caller('alice', 'token-1');
    endpoint.expiresIn = 300;
    await exchanger.token('orders', exchangeCfg(), alice);
    now += 269_000;
    await exchanger.token('orders', exchangeCfg(), alice);
    expect(endpoint.received).toHaveLength(1);
    now += 2_000; // 29 s left
    await exchanger.token('orders', exchangeCfg(), alice);
    expect(endpoint.received).toHaveLength(2);
    endpoint.expiresIn = 40; // short-lived: reused for 20 s
    now += 600_000;
    await exchanger.token('orders', exchangeCfg(), alice);
    now += 19_000;
    await exchanger.token('orders', exchangeCfg(), alice);
    expect(endpoint.received).toHaveLength(3);
    now += 2_000;
    await exchanger.token('orders', exchangeCfg(), alice);
    expect(endpoint.received).toHaveLength(4);
  });

  it("keeps nothing past the caller token's own expiry", async () => {
    const creds = credentials();
    const b = backend(exchangeCfg());
    const expired = caller('alice', 'token-1', Math.floor(Date.now() / 1000) - 1);
    await creds.headers(b, expired);
    await creds.headers(b, expired);
    expect(endpoint.received).toHaveLength(2);
  });

  it('holds at most tokenExchangeCacheEntries tokens, dropping the least recently used', async () => {
    const creds = credentials({ exchangeCacheEntries: 2 });
    const b = backend(exchangeCfg());
    const [t1, t2, t3] = [caller('a', 'token-1'), caller('b', 'token-2'), caller('c', 'token-3')];
    await creds.headers(b, t1);
    await creds.headers(b, t2);
    await creds.headers(b, t1); // token-1 is now the most recently used
    await creds.headers(b, t3); // evicts token-2
    await creds.headers(b, t1);
    expect(endpoint.received).toHaveLength(3);
    await creds.headers(b, t2);
    expect(endpoint.received).toHaveLength(4);
  });

  it("forgets a caller's exchanged token when the backend answered 401 with it", async () => {
    const creds = credentials();
    const b = backend(exchangeCfg());
    await creds.headers(b, caller('alice', 'token-1'));
    creds.invalidate(b, caller('alice', 'token-1'));
    await creds.headers(b, caller('alice', 'token-1'));
    expect(endpoint.received).toHaveLength(2);
  });
});

describe('exchange failures', () => {
  it('a refusal by the identity provider is GW_TOKEN_EXCHANGE_REFUSED with its reason, and is not cached', async () => {
    endpoint.status = 400;
    const { logger, lines } = capturingLogger('debug');
    const creds = credentials({}, logger);
    const b = backend(exchangeCfg());
    const err = await creds.headers(b, caller('alice', 'secret-subject-token')).catch((e: GatewayError) => e);
    expect(err).toMatchObject({ code: 'GW_TOKEN_EXCHANGE_REFUSED', detail: 'the identity provider answered invalid_grant (subject token revoked) for backend "orders" (audience orders-api)' });
    await creds.headers(b, caller('alice', 'secret-subject-token')).catch(() => undefined);
    expect(endpoint.received).toHaveLength(2);
    // Logged for operators, without the token.
    expect(lines().some((l) => String(l.msg).includes('invalid_grant'))).toBe(true);
    expect(JSON.stringify(lines())).not.toContain('secret-subject-token');
  });

  it('an identity provider that fails or cannot be reached is GW_TOKEN_EXCHANGE_UNAVAILABLE', async () => {
    endpoint.status = 503;
    expect(await codeOf(credentials().headers(backend(exchangeCfg()), caller('alice', 'token-1')))).toBe('GW_TOKEN_EXCHANGE_UNAVAILABLE');
    const dead = exchangeCfg({ tokenUrl: `${await deadUrl()}/token` });
    expect(await codeOf(credentials().headers(backend(dead), caller('alice', 'token-1')))).toBe('GW_TOKEN_EXCHANGE_UNAVAILABLE');
  });

  it('a missing client secret is GW_TOKEN_EXCHANGE_UNAVAILABLE naming the reference', async () => {
    const err = await credentials()
      .headers(backend(exchangeCfg({ clientSecret: { env: 'MCP_GW_UNIT_NO_SUCH_SECRET' } })), caller('alice', 'token-1'))
      .catch((e: GatewayError) => e);
    expect(err).toMatchObject({ code: 'GW_TOKEN_EXCHANGE_UNAVAILABLE' });
    expect((err as GatewayError).detail).toContain('environment variable MCP_GW_UNIT_NO_SUCH_SECRET is not set');
    expect(endpoint.received).toHaveLength(0);
  });

  it('a caller without a token (a copy that lost it) is refused, never sent without credentials', async () => {
    const bare: Caller = { principal: { issuer: 'https://idp.example', subject: 'alice' }, scopes: [], roles: [], claims: {} };
    expect(await codeOf(credentials().headers(backend(exchangeCfg()), bare))).toBe('GW_TOKEN_EXCHANGE_REFUSED');
    expect(endpoint.received).toHaveLength(0);
  });

  it("keeps the caller's token out of the caller's JSON (logs, audit, policy input)", () => {
    expect(JSON.stringify(caller('alice', 'alice-token'))).not.toContain('alice-token');
    expect(Object.keys(caller('alice', 'alice-token'))).toEqual(['principal', 'scopes', 'roles', 'claims']);
  });
});

describe('token exchange configuration', () => {
  const te = { type: 'oauth2-token-exchange', tokenUrl: 'https://idp.example/token', clientId: 'gw', audience: 'orders-api' };
  const withBackend = (credentialsCfg: unknown, auth = true) =>
    parseConfig({ ...(auth ? { auth: { issuer: 'https://idp.example', audience: 'gw' } } : {}), backends: [{ name: 'orders', kind: 'mcp', urls: ['http://127.0.0.1:1'], credentials: credentialsCfg }] });

  it('takes the client secret by reference only', () => {
    expect(withBackend({ ...te, clientSecret: { env: 'ORDERS_SECRET' } }).backends[0]!.credentials).toMatchObject({ clientSecret: { env: 'ORDERS_SECRET' }, withoutCaller: 'client-credentials' });
    expect(() => withBackend({ ...te, clientSecret: 'plain' })).toThrow(/backends\[0\]\.credentials\.clientSecret: must be \{env: NAME\} or \{file: PATH\}/);
  });

  it('needs auth: without it there is no caller token to exchange', () => {
    expect(() => withBackend({ ...te, clientSecret: { env: 'X' } }, false)).toThrow(/backends\[0\]\.credentials\.type: token exchange needs "auth"/);
  });

  it('refuses to start when a secret reference cannot be resolved', () => {
    const cfg = withBackend({ ...te, clientSecret: { file: join(dir, 'missing') } });
    expect(() => assertSecretsResolvable(cfg, {})).toThrow(ConfigError);
    expect(() => assertSecretsResolvable(cfg, {})).toThrow(/backends\[0\]\.credentials\.clientSecret: file .*missing cannot be read \(ENOENT\)/);
    expect(() => assertSecretsResolvable(withBackend({ ...te, clientSecret: { env: 'SET' } }), { SET: 'x' })).not.toThrow();
  });
});
