import { createServer } from 'node:http';
import { exportJWK, exportSPKI, generateKeyPair, importJWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { jsonOf, rawHttp, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { waitFor } from '../support/wait.js';

const AUDIENCE = 'http://gateway.test/mcp';
let idp: TestIdp;
let gw: TestGateway;
let backend: { url: string; seen: Array<Record<string, string | string[] | undefined>>; close(): Promise<void> };

/** A REST backend that records the headers it receives. */
async function recordingBackend() {
  const seen: Array<Record<string, string | string[] | undefined>> = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return { url: await listen(server), seen, close: () => closeServer(server) };
}

const init = (protocolVersion = '2025-11-25') => ({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 't', version: '1' } } });

async function initWith(token: string | undefined, url = gw.url): Promise<Response> {
  return rawPost(url, undefined, init(), token ? { authorization: `Bearer ${token}` } : {});
}

beforeAll(async () => {
  idp = await startIdp(
    [
      { id: 'alice', claims: { roles: ['admin'] } },
      { id: 'bob', claims: { roles: ['analyst'] } },
    ],
    AUDIENCE,
  );
  backend = await recordingBackend();
  gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, requiredScopes: ['tools:call'], scopesSupported: ['tools:call', 'orders:write'], jwksCooldownMs: 0, jwksRefreshMs: 200 },
    backends: [
      { name: 'echo', kind: 'rest', urls: [backend.url], identityHeaders: true, tools: [{ name: 'ping', http: { method: 'GET', path: '/ping' } }] },
      { name: 'orders', kind: 'rest', urls: [backend.url], requiredScopes: ['orders:write'], tools: [{ name: 'create', http: { method: 'POST', path: '/orders' } }] },
    ],
  });
});

afterAll(async () => {
  await gw?.stop();
  await backend?.close();
  await idp?.close();
});

describe('authentication', () => {
  it('answers 401 with a challenge that leads to the authorization server', async () => {
    const res = await initWith(undefined);
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    expect(new URL(metadataUrl).pathname).toBe('/.well-known/oauth-protected-resource/mcp');
    const metadata = await jsonOf(await fetch(metadataUrl));
    expect(metadata.authorization_servers).toEqual([idp.issuer]);
    expect(metadata.scopes_supported).toEqual(['tools:call', 'orders:write']);
    expect((await jsonOf(res)).error.data.code).toBe('GW_UNAUTHORIZED');
  });

  it('lets an MCP SDK client with a real token list and call tools', async () => {
    const token = await idp.token('alice', { scope: 'tools:call' });
    const client = new Client({ name: 'sdk', version: '1' });
    await client.connect(new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('echo_ping');
    const r = await client.callTool({ name: 'echo_ping', arguments: {} });
    expect(r.structuredContent).toEqual({ ok: true });
    await client.close();
  });

  it('never passes the client token to a backend; identity travels only in headers the gateway sets', async () => {
    const token = await idp.token('alice', { scope: 'tools:call' });
    const sid = (await initWith(token)).headers.get('mcp-session-id')!;
    backend.seen.length = 0;
    const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'echo_ping', arguments: {} } }, {
      authorization: `Bearer ${token}`,
      'x-mcp-gateway-subject': 'forged-admin',
    });
    expect(res.status).toBe(200);
    const headers = backend.seen[0]!;
    expect(headers.authorization).toBeUndefined();
    expect(JSON.stringify(headers)).not.toContain(token);
    expect(headers['x-mcp-gateway-subject']).toBe('alice');
    expect(headers['x-mcp-gateway-issuer']).toBe(idp.issuer);
  });

  it('answers 403 insufficient_scope naming the scope a backend needs', async () => {
    const token = await idp.token('alice', { scope: 'tools:call' });
    const sid = (await initWith(token)).headers.get('mcp-session-id')!;
    const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'orders_create', arguments: {} } }, { authorization: `Bearer ${token}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/error="insufficient_scope".*scope="orders:write"/);
    expect((await jsonOf(res)).id).toBe(3);
    const stepUp = await idp.token('alice', { scope: 'tools:call orders:write' });
    const ok = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 4, method: 'tools/call', params: { name: 'orders_create', arguments: {} } }, { authorization: `Bearer ${stepUp}` });
    expect(ok.status).toBe(200);
  });

  it('answers 403 when the token lacks a scope every request needs', async () => {
    const token = await idp.token('alice', { scope: 'orders:write' });
    const res = await initWith(token);
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/scope="tools:call"/);
  });

  it('treats a session presented with another identity as unknown', async () => {
    const alice = await idp.token('alice', { scope: 'tools:call' });
    const bob = await idp.token('bob', { scope: 'tools:call' });
    const sid = (await initWith(alice)).headers.get('mcp-session-id')!;
    const stolen = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 5, method: 'tools/list' }, { authorization: `Bearer ${bob}` });
    expect(stolen.status).toBe(404);
    const own = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 6, method: 'tools/list' }, { authorization: `Bearer ${alice}` });
    expect(own.status).toBe(200);
  });

  it('picks up a rotated signing key without restart, and stops accepting tokens of the withdrawn key', async () => {
    const before = await idp.token('alice', { scope: 'tools:call' });
    expect((await initWith(before)).status).toBe(200); // verified once, then remembered
    await idp.rotate();
    const token = await idp.token('alice', { scope: 'tools:call' });
    expect(JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).kid).toBe('key-2');
    expect((await initWith(token)).status).toBe(200);
    // The cached verification of the old token dies with its key (the JWKS is fetched again every 200 ms here).
    await waitFor(async () => (await initWith(before)).status === 401, 'the token of the withdrawn key refused', 10_000);
    const refused = await initWith(before);
    expect(refused.headers.get('www-authenticate')).toContain('invalid_token');
  });
});

describe('malformed Host on an unauthenticated request', () => {
  it('is a 400, not a 500 (the challenge URL is never built from it)', async () => {
    const initBody = JSON.stringify(init());
    for (const host of ['bad host', '[', 'a/b', '']) {
      const res = await rawHttp(gw.url, { method: 'POST', headers: { host, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initBody });
      expect(res.status, JSON.stringify(host)).toBe(400);
      expect(JSON.parse(res.text).error.data.code).toBe('GW_HOST_INVALID');
      const meta = await rawHttp(new URL('/.well-known/oauth-protected-resource/mcp', gw.url).href, { headers: { host } });
      expect(meta.status, JSON.stringify(host)).toBe(400);
    }
    // A well-formed Host still gets its challenge.
    const ok = await rawHttp(gw.url, { method: 'POST', headers: { host: gw.url.split('/')[2]!, 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: initBody });
    expect(ok.status).toBe(401);
  });
});

describe('attacks', () => {
  const now = () => Math.floor(Date.now() / 1000);
  const claims = () => ({ sub: 'alice', scope: 'tools:call', roles: ['admin'] });
  const signed = (payload: Record<string, unknown>, opts: { iss?: string; aud?: string; exp?: number; nbf?: number; iat?: number; typ?: string } = {}) =>
    new SignJWT(payload)
      .setProtectedHeader({ alg: 'RS256', kid: idp.signingKey.kid, ...(opts.typ ? { typ: opts.typ } : {}) })
      .setIssuer(opts.iss ?? idp.issuer)
      .setAudience(opts.aud ?? AUDIENCE)
      .setIssuedAt(opts.iat ?? now())
      .setExpirationTime(opts.exp ?? now() + 300)
      .setNotBefore(opts.nbf ?? now() - 10)
      .sign(idp.signingKey.privateKey);

  it('accepts a correctly forged control token (so the attacks below fail for their flaw alone)', async () => {
    expect((await initWith(await signed(claims()))).status).toBe(200);
    // Access-token types as RFC 9068 and Keycloak write them are accepted.
    for (const typ of ['at+jwt', 'application/at+JWT', 'JWT']) expect((await initWith(await signed(claims(), { typ }))).status, typ).toBe(200);
  });

  const cases: Array<[string, () => Promise<string>]> = [
    ['alg none', async () => `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'JWT' })).toString('base64url')}.${Buffer.from(JSON.stringify({ ...claims(), iss: idp.issuer, aud: AUDIENCE, exp: now() + 300 })).toString('base64url')}.`],
    [
      'HS256 signed with the public key',
      async () => {
        // The classic confusion attack: the issuer's own public key (it is public) as an HMAC secret.
        const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...pub } = await exportJWK(idp.signingKey.privateKey);
        const pem = await exportSPKI((await importJWK({ ...pub, alg: 'RS256' }, 'RS256')) as Parameters<typeof exportSPKI>[0]);
        return new SignJWT({ ...claims(), iss: idp.issuer, aud: AUDIENCE, exp: now() + 300 }).setProtectedHeader({ alg: 'HS256', kid: idp.signingKey.kid }).sign(new TextEncoder().encode(pem));
      },
    ],
    [
      'unknown kid',
      async () => {
        const { privateKey } = await generateKeyPair('RS256');
        return new SignJWT({ ...claims(), iss: idp.issuer, aud: AUDIENCE, exp: now() + 300 }).setProtectedHeader({ alg: 'RS256', kid: 'attacker' }).sign(privateKey);
      },
    ],
    ['wrong issuer', () => signed(claims(), { iss: 'http://evil.test' })],
    ['wrong audience', () => signed(claims(), { aud: 'http://other-resource.test/mcp' })],
    ['expired', () => signed(claims(), { exp: now() - 120 })],
    ['not yet valid', () => signed(claims(), { nbf: now() + 600 })],
    ['issued in the future', () => signed(claims(), { iat: now() + 600 })],
    ['not an access token (typ logout+jwt)', () => signed(claims(), { typ: 'logout+jwt' })],
    ['an empty subject', () => signed({ ...claims(), sub: '' })],
    ['garbage', async () => 'not.a.jwt'],
  ];
  for (const [name, make] of cases) {
    it(`rejects ${name} with 401 invalid_token`, async () => {
      const res = await initWith(await make());
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_(token|request)"/);
    });
  }

  it('rejects a token in the query string, even a valid one', async () => {
    const token = await idp.token('alice', { scope: 'tools:call' });
    const res = await rawPost(`${gw.url}?access_token=${token}`, undefined, init());
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_request"/);
  });

  it('rejects an oversized token without trying to verify it', async () => {
    // Over auth.maxTokenBytes (8192); Node itself answers 431 past 16 KiB of headers.
    const res = await initWith('a'.repeat(10_000));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/longer than 8192 bytes/);
  });
});
