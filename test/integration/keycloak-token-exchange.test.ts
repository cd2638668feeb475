/**
 * Token exchange per backend (RFC 8693) against a real Keycloak (standard token exchange, V2):
 * the official MCP SDK client signs in at Keycloak, calls tools through the gateway — standalone,
 * and through the real Envoy in front of ext_proc — and each backend (a REST API and a native MCP
 * SDK server, both verifying tokens against Keycloak's keys) sees a Keycloak token for its own
 * audience that names the caller, never the client's token. Keycloak's own event log counts the
 * exchanges. A service discovered in a real Consul gets the same exchange from the operator's
 * `catalog.consul.services` settings. The realm: test/fixtures/keycloak/mcp-realm.json.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { ERROR_META_KEY } from '../../src/upstream/results.js';
import { clusterName } from '../../src/xds/clusters.js';
import { startConsul } from '../harness/consul.js';
import { startKeycloak, type KeycloakHandle } from '../harness/keycloak.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { envoyStat, startTopologyEnvoy, type TopologyEnvoy } from '../harness/topology-envoy.js';
import { startExtProc, startGateway, type TestGateway } from '../support/gateway.js';
import { startWhoamiMcp, startWhoamiRest, type TokenBackend } from '../support/token-backends.js';
import { kvPut, register } from '../support/consul-api.js';
import { waitFor } from '../support/wait.js';

const REALM = fileURLToPath(new URL('../fixtures/keycloak/mcp-realm.json', import.meta.url));
const SECRET_ENV = 'MCP_GW_TEST_EXCHANGE_SECRET';

let kc: KeycloakHandle;
let rest: TokenBackend;
let mcp: TokenBackend;
let dir: string;
let gw: TestGateway;
let auditFile: string;
const suiteStart = Date.now();

/** The gateway's backends: each exchanges the caller's token for one of its own audience. */
const exchange = (audience: string, clientSecret: unknown) => ({ type: 'oauth2-token-exchange', tokenUrl: kc.tokenUrl, clientId: 'mcp-gateway', clientSecret, audience });
const whoami = [{ name: 'whoami', annotations: { readOnlyHint: true }, http: { method: 'GET', path: '/whoami' } }];

function backends(secretFile: string): unknown[] {
  return [
    { name: 'rest', kind: 'rest', urls: [rest.url], credentials: exchange('backend-rest', { file: secretFile }), tools: whoami },
    { name: 'mcp', kind: 'mcp', urls: [mcp.url], credentials: exchange('backend-mcp', { env: SECRET_ENV }) },
    // The realm gives the gateway no audience mapper for backend-other: Keycloak refuses these exchanges.
    { name: 'other', kind: 'rest', urls: [rest.url], credentials: exchange('backend-other', { env: SECRET_ENV }), tools: whoami },
  ];
}

beforeAll(async () => {
  kc = await startKeycloak({ realmFile: REALM });
  console.log(`keycloak ready in ${kc.startMs} ms`);
  rest = await startWhoamiRest(kc.issuer, 'backend-rest');
  mcp = await startWhoamiMcp(kc.issuer, 'backend-mcp');
  dir = makeTempDir('token-exchange');
  const secretFile = join(dir, 'gateway-secret');
  writeFileSync(secretFile, 'gateway-secret\n');
  process.env[SECRET_ENV] = 'gateway-secret';
  auditFile = join(dir, 'audit.jsonl');
  gw = await startGateway({
    auth: { issuer: kc.issuer, audience: 'mcp-gateway' },
    audit: { sink: 'file', file: auditFile },
    backends: backends(secretFile),
  });
  await waitFor(() => gw.core.catalog.current().tools.has('mcp_whoami'), 'the native backend discovered (with the gateway client-credentials token)', 30_000);
}, 420_000);

afterAll(async () => {
  await gw?.stop();
  await rest?.close();
  await mcp?.close();
  await kc?.stop();
  if (dir) removeDir(dir);
  delete process.env[SECRET_ENV];
  console.log(`keycloak token exchange suite took ${Date.now() - suiteStart} ms`);
});

/** An access token of a realm user, issued to the MCP client (audience: the gateway). */
const signIn = (username: string): Promise<string> => kc.token({ grant_type: 'password', client_id: 'mcp-client', username, password: `${username}-pw` });

async function connect(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'token-exchange-test', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  return client;
}

/** Keycloak's own count of token exchanges for a user (its event log). */
async function exchangesOf(userId: string): Promise<number> {
  const res = await kc.admin(`/events?type=TOKEN_EXCHANGE&user=${userId}&max=1000`);
  expect(res.status).toBe(200);
  return ((await res.json()) as unknown[]).length;
}

const textOf = (r: Awaited<ReturnType<Client['callTool']>>): string => (r.content as Array<{ text: string }>)[0]!.text;

describe('token exchange with Keycloak, standalone gateway', () => {
  it('accepts Keycloak access tokens with the default auth.tokenTypes (their header typ is "JWT")', async () => {
    const token = await signIn('alice');
    expect(decodeProtectedHeader(token).typ).toBe('JWT');
    const client = await connect(gw.url, token);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['rest_whoami', 'mcp_whoami', 'other_whoami']));
    await client.close();
  });

  it("sends each backend a Keycloak token for that backend, on the caller's behalf, never the caller's own token", async () => {
    const token = await signIn('alice');
    const alice = decodeJwt(token);
    expect(alice.aud).toBe('mcp-gateway');
    const client = await connect(gw.url, token);
    const fromRest = await client.callTool({ name: 'rest_whoami', arguments: {} });
    expect(fromRest.isError).toBeFalsy();
    expect(JSON.parse(textOf(fromRest))).toEqual({ sub: alice.sub, aud: 'backend-rest', azp: 'mcp-gateway' });
    const fromMcp = await client.callTool({ name: 'mcp_whoami', arguments: {} });
    expect(fromMcp.isError).toBeFalsy();
    expect(JSON.parse(textOf(fromMcp))).toEqual({ sub: alice.sub, aud: 'backend-mcp', azp: 'mcp-gateway' });
    // What each backend verified: issued by Keycloak, for it alone, naming alice; never her token.
    const restSeen = rest.seen.at(-1)!;
    const mcpSeen = mcp.seen.at(-1)!;
    expect(restSeen.claims).toMatchObject({ iss: kc.issuer, aud: 'backend-rest', sub: alice.sub });
    expect(mcpSeen.claims).toMatchObject({ iss: kc.issuer, aud: 'backend-mcp', sub: alice.sub });
    expect(restSeen.token).not.toBe(mcpSeen.token);
    for (const seen of [...rest.seen, ...mcp.seen]) expect(seen.token).not.toBe(token);
    await client.close();
  });

  it('reuses the exchanged token for later calls with the same caller token, and exchanges again for a new token', async () => {
    const token = await signIn('alice');
    const userId = decodeJwt(token).sub!;
    const client = await connect(gw.url, token);
    const before = await exchangesOf(userId);
    const seenBefore = rest.seen.length;
    await client.callTool({ name: 'rest_whoami', arguments: {} });
    expect(await exchangesOf(userId)).toBe(before + 1);
    await client.callTool({ name: 'rest_whoami', arguments: {} });
    await client.callTool({ name: 'rest_whoami', arguments: {} });
    expect(await exchangesOf(userId)).toBe(before + 1);
    const tokens = rest.seen.slice(seenBefore).map((s) => s.token);
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    await client.close();

    // The same user signed in again: another subject token, so another exchange.
    const again = await connect(gw.url, await signIn('alice'));
    await again.callTool({ name: 'rest_whoami', arguments: {} });
    expect(await exchangesOf(userId)).toBe(before + 2);
    expect(rest.seen.at(-1)!.token).not.toBe(tokens[0]);
    await again.close();
  });

  it('makes one exchange for concurrent calls with one caller token', async () => {
    const token = await signIn('alice');
    const userId = decodeJwt(token).sub!;
    const client = await connect(gw.url, token);
    const before = await exchangesOf(userId);
    const results = await Promise.all(Array.from({ length: 5 }, () => client.callTool({ name: 'mcp_whoami', arguments: {} })));
    for (const r of results) expect(r.isError).toBeFalsy();
    expect(await exchangesOf(userId)).toBe(before + 1);
    expect(new Set(mcp.seen.slice(-5).map((s) => s.token)).size).toBe(1);
    await client.close();
  });

  it('gives a caller whose exchange Keycloak refuses a clear tool error, audited, and the backend is not called', async () => {
    const token = await signIn('bob');
    const bob = decodeJwt(token);
    // Bob's session ends at Keycloak; his access token still verifies at the gateway until it expires.
    const users = (await (await kc.admin('/users?username=bob&exact=true')).json()) as Array<{ id: string }>;
    expect((await kc.admin(`/users/${users[0]!.id}/logout`, { method: 'POST' })).status).toBe(204);
    const client = await connect(gw.url, token);
    const seenBefore = rest.seen.length;
    const refused = await client.callTool({ name: 'rest_whoami', arguments: {} });
    expect(refused.isError).toBe(true);
    expect(refused._meta?.[ERROR_META_KEY]).toBe('GW_TOKEN_EXCHANGE_REFUSED');
    expect(textOf(refused)).toMatch(/^The identity provider refused to exchange the caller's token for one of this backend: the identity provider answered invalid_request \(Invalid token\) for backend "rest"/);
    expect(rest.seen.length).toBe(seenBefore);
    await client.close();

    // A backend the gateway may not ask tokens for: refused for anyone, with Keycloak's reason.
    const alice = await connect(gw.url, await signIn('alice'));
    const other = await alice.callTool({ name: 'other_whoami', arguments: {} });
    expect(other._meta?.[ERROR_META_KEY]).toBe('GW_TOKEN_EXCHANGE_REFUSED');
    expect(textOf(other)).toContain('Requested audience not available: backend-other');
    await alice.close();

    await waitFor(() => readFileSync(auditFile, 'utf8').includes('"tool":"other_whoami"'), 'audit events written');
    const events = readFileSync(auditFile, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, any>);
    const bobCall = events.find((e) => e.event === 'mcp.tool_call' && e.principal.subject === bob.sub);
    expect(bobCall).toMatchObject({ tool: 'rest_whoami', backend: 'rest', outcome: 'tool_error', errorCode: 'GW_TOKEN_EXCHANGE_REFUSED' });
    const { body: metrics } = await gw.core.telemetry.metrics.scrape();
    expect(metrics).toMatch(/mcp_gateway_token_exchanges_total\{backend="rest",outcome="refused"\} [1-9]/);
    expect(metrics).toMatch(/mcp_gateway_token_exchanges_total\{backend="rest",outcome="cached"\} [1-9]/);
  });

  it('writes no token into the audit trail', async () => {
    const audit = readFileSync(auditFile, 'utf8');
    expect(audit.length).toBeGreaterThan(0);
    for (const seen of [...rest.seen, ...mcp.seen]) expect(audit).not.toContain(seen.token.split('.')[2]);
  });
});

describe('token exchange with Keycloak, Envoy topology', () => {
  let ext: RunningExtProc;
  let topology: TopologyEnvoy;

  beforeAll(async () => {
    ext = await startExtProc({ auth: { issuer: kc.issuer, audience: 'mcp-gateway' }, backends: backends(join(dir, 'gateway-secret')) });
    topology = await startTopologyEnvoy(ext);
    await waitFor(() => ext.core.catalog.current().tools.has('mcp_whoami'), 'the native backend discovered', 30_000);
    await waitFor(async () => (await clusterStat('mcp', 'membership_healthy')) === 1, 'Envoy knows the backend cluster', 30_000);
  }, 120_000);

  afterAll(async () => {
    await topology?.envoy.stop();
    await ext?.stop();
  });

  function clusterStat(backend: string, stat: string): Promise<number> {
    return envoyStat(topology.envoy.adminUrl, `cluster.${clusterName(backend).replace(/\./g, '_')}.${stat}`);
  }

  it('sets the exchanged token on native calls Envoy routes straight to the backend, and on REST calls the broker makes', async () => {
    const token = await signIn('alice');
    const alice = decodeJwt(token);
    const client = await connect(topology.endpoint, token);
    const routed = await clusterStat('mcp', 'upstream_rq_total');
    const fromMcp = await client.callTool({ name: 'mcp_whoami', arguments: {} });
    expect(JSON.parse(textOf(fromMcp))).toEqual({ sub: alice.sub, aud: 'backend-mcp', azp: 'mcp-gateway' });
    // Envoy sent the call to the backend's cluster itself (ext_proc's header mutation carried the token).
    expect(await clusterStat('mcp', 'upstream_rq_total')).toBeGreaterThan(routed);
    const fromRest = await client.callTool({ name: 'rest_whoami', arguments: {} });
    expect(JSON.parse(textOf(fromRest))).toEqual({ sub: alice.sub, aud: 'backend-rest', azp: 'mcp-gateway' });
    for (const seen of [...rest.seen, ...mcp.seen]) expect(seen.token).not.toBe(token);
    await client.close();
  });
});

describe('token exchange for services discovered in Consul', () => {
  it("exchanges the caller's token for the backend a Consul service maps to, from catalog.consul.services; a service's meta cannot ask for it", async () => {
    const consul = await startConsul();
    let gwc: TestGateway | undefined;
    try {
      const meta = (kind: string, extra: Record<string, string> = {}) => ({ 'mcp-enabled': 'true', 'mcp-kind': kind, ...extra });
      await kvPut(consul.url, 'mcp/tools/orders-rest', whoami);
      await kvPut(consul.url, 'mcp/tools/intruder', whoami);
      await register(consul.url, { id: 'orders-rest-1', name: 'orders-rest', url: rest.url, meta: meta('rest') });
      await register(consul.url, { id: 'orders-mcp-1', name: 'orders-mcp', url: new URL(mcp.url).origin, meta: meta('mcp', { 'mcp-path': new URL(mcp.url).pathname }) });
      // Another service that names orders-rest's settings in its meta: it gets nothing from them.
      await register(consul.url, { id: 'intruder-1', name: 'intruder', url: rest.url, meta: meta('rest', { 'mcp-credentials': 'orders-rest' }) });
      gwc = await startGateway({
        auth: { issuer: kc.issuer, audience: 'mcp-gateway' },
        catalog: {
          consul: {
            url: consul.url,
            waitSeconds: 10,
            services: {
              'orders-rest': { credentials: exchange('backend-rest', { file: join(dir, 'gateway-secret') }) },
              'orders-mcp': { credentials: exchange('backend-mcp', { env: SECRET_ENV }) },
            },
          },
        },
      });
      const ready = gwc;
      await waitFor(() => ['orders-rest_whoami', 'orders-mcp_whoami', 'intruder_whoami'].every((t) => ready.core.catalog.current().tools.has(t)), 'the Consul services in the catalog (the MCP one discovered with the gateway’s own token)', 30_000);

      const token = await signIn('alice');
      const alice = decodeJwt(token);
      const client = await connect(gwc.url, token);
      const fromRest = await client.callTool({ name: 'orders-rest_whoami', arguments: {} });
      expect(JSON.parse(textOf(fromRest))).toEqual({ sub: alice.sub, aud: 'backend-rest', azp: 'mcp-gateway' });
      const fromMcp = await client.callTool({ name: 'orders-mcp_whoami', arguments: {} });
      expect(JSON.parse(textOf(fromMcp))).toEqual({ sub: alice.sub, aud: 'backend-mcp', azp: 'mcp-gateway' });
      expect(mcp.seen.at(-1)!.claims).toMatchObject({ iss: kc.issuer, aud: 'backend-mcp', sub: alice.sub });

      // The intruder reaches the same REST API without any token: the backend refuses it.
      const seenBefore = rest.seen.length;
      const intruder = await client.callTool({ name: 'intruder_whoami', arguments: {} });
      expect(intruder.isError).toBe(true);
      expect(rest.seen.slice(seenBefore).map((s) => s.token)).toEqual(['']);
      for (const seen of [...rest.seen, ...mcp.seen]) expect(seen.token).not.toBe(token);
      await client.close();
    } finally {
      await gwc?.stop();
      await consul.stop();
    }
  });
});
