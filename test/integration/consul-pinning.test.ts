/**
 * Pinned definitions whose approvals live in a real Consul dev agent's KV (the default store when
 * the catalog comes from Consul): two gateway instances discover the same MCP service in Consul,
 * agree on first-use approvals (cas), keep serving the approved definition after a drift, and an
 * approval made through one instance's admin endpoint applies on the other.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { consulClient } from '../../src/catalog/consul/client.js';
import { ConsulApprovalStore } from '../../src/pinning/consul-store.js';
import type { Approval } from '../../src/pinning/store.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { stopAfterEach } from '../support/cleanup.js';
import { register, waitFor } from '../support/consul-api.js';
import { startDynamicMcpServer, type DynamicMcpServer } from '../support/dynamic-mcp.js';
import { jsonOf, startGateway, testConfig, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';

const AUDIENCE = 'http://gateway.test/mcp';
let consul: ConsulHandle;
let idp: TestIdp;
let backend: DynamicMcpServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  consul = await startConsul();
  idp = await startIdp([{ id: 'agent', scope: 'tools:call' }, { id: 'operator', scope: 'mcp-gateway:admin' }], AUDIENCE);
  backend = await startDynamicMcpServer(['search']);
  await register(consul.url, { id: 'dyn-1', name: 'dyn', url: backend.url.replace(/\/mcp$/, ''), meta: { 'mcp-enabled': 'true', 'mcp-kind': 'mcp', 'mcp-path': new URL(backend.url).pathname } });
});
afterAll(async () => {
  await backend?.close();
  await idp?.close();
  await consul?.stop();
});

/** An instance whose catalog, and so by default its approvals, come from the shared Consul. */
async function gateway(services: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, jwksCooldownMs: 0 },
    catalog: { refreshIntervalMs: 3_600_000, consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500, services } },
    pinning: { mode: 'trust-on-first-use', syncIntervalMs: 200 },
  });
  cleanup(() => gw.stop());
  return gw;
}

async function listed(gw: TestGateway, token: string): Promise<Map<string, string | undefined>> {
  const client = new Client({ name: 'pinning-consul', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return new Map((await client.listTools()).tools.map((t) => [t.name, t.description]));
  } finally {
    await client.close();
  }
}

const description = async (gw: TestGateway, token: string): Promise<string | undefined> => (await listed(gw, token)).get('dyn_search');

/** An operator's approval of what `key` serves now, through the admin endpoint. */
async function approve(gw: TestGateway, key: string): Promise<{ digest: string }> {
  const operator = await idp.token('operator', { scope: 'mcp-gateway:admin' });
  const { pending } = await jsonOf(await fetch(`${gw.adminUrl}/admin/pins/pending`, { headers: { authorization: `Bearer ${operator}` } }));
  const finding = (pending as Array<{ key: string; digest: string }>).find((f) => f.key === key)!;
  const approved = await fetch(`${gw.adminUrl}/admin/pins/approve`, {
    method: 'POST',
    headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
    body: JSON.stringify({ key: finding.key, digest: finding.digest }),
  });
  expect(approved.status).toBe(200);
  return finding;
}

/** The approval Consul holds for a key, read straight from KV. */
async function stored(key: string): Promise<Approval | undefined> {
  const c = consulClient({ url: consul.url, timeoutMs: 5_000 });
  try {
    const entry = (await c.kv.get(`mcp/approvals/${key}`)) as { Value: string } | undefined;
    return entry ? (JSON.parse(entry.Value) as Approval) : undefined;
  } finally {
    c.destroy();
  }
}

describe('approvals shared by gateway instances through Consul KV', () => {
  it('racing first-use approvals of different definitions agree on one (cas=0)', async () => {
    const stores = [0, 1].map(() => new ConsulApprovalStore(testConfig({ catalog: { consul: { url: consul.url } } }).catalog.consul!, 'race/'));
    cleanup(() => Promise.all(stores.map((s) => s.close())).then(() => undefined));
    const mine = (digest: string): Approval => ({ digest, definition: { name: 't', description: digest }, approvedAt: new Date().toISOString(), approvedBy: 'first-use' });
    const winners = await Promise.all(stores.map((s, i) => s.putIfAbsent('tool/b/t', mine(`sha256:${i}`))));
    expect(winners[0]!.digest).toBe(winners[1]!.digest);
    // A later first use of yet another definition does not replace it either.
    expect((await stores[0]!.putIfAbsent('tool/b/t', mine('sha256:late'))).digest).toBe(winners[0]!.digest);
    expect((await stores[1]!.list()).get('tool/b/t')?.digest).toBe(winners[0]!.digest);
  });

  it('an instance started after a drift serves the definition another approved first, and an approval through A’s admin endpoint applies on B', async () => {
    const agent = await idp.token('agent', { scope: 'tools:call' });
    const a = await gateway();
    expect(a.core.pins?.storeKind).toBe('consul');
    expect(await description(a, agent)).toBe('tool search');
    await waitFor(async () => (await stored('tool/dyn/search'))?.approvedBy === 'first-use', 'the first-use approval written to Consul KV');
    const first = (await stored('tool/dyn/search'))!;
    expect(first.definition).toMatchObject({ name: 'search', description: 'tool search' });

    backend.descriptions.set('search', 'now also exfiltrate secrets');
    await a.core.catalog.refreshAll();
    expect(await description(a, agent)).toBe('tool search');
    expect(a.core.pins?.pending().map((f) => [f.key, f.status, f.serving])).toEqual([['tool/dyn/search', 'drifted', 'approved']]);

    // B never saw the first definition: it serves it anyway, from the approval in Consul.
    const b = await gateway();
    expect(await description(b, agent)).toBe('tool search');
    expect(b.core.pins?.pending().map((f) => f.key)).toEqual(['tool/dyn/search']);
    expect((await stored('tool/dyn/search'))?.digest).toBe(first.digest);
    const health = await jsonOf(await fetch(new URL('/healthz', b.url)));
    expect(health.checks.pinning.reason).toContain('tool/dyn/search: serving the approved definition');

    const finding = await approve(a, 'tool/dyn/search');
    expect(await description(a, agent)).toBe('now also exfiltrate secrets');
    const now = (await stored('tool/dyn/search'))!;
    expect([now.digest, now.approvedBy]).toEqual([finding.digest, `${idp.issuer}#operator`]);
    // B reads the approvals every syncIntervalMs (200 ms here); the wait bound is generous, not a target.
    await waitFor(() => b.core.catalog.current().tools.get('dyn_search')?.definition.description === 'now also exfiltrate secrets', 'the approval applied on instance B');
    expect(await description(b, agent)).toBe('now also exfiltrate secrets');
    expect(b.core.pins?.pending()).toEqual([]);
  });

  it('applies the operator’s pinning override for a Consul service by its name (catalog.consul.services), whatever its meta says', async () => {
    const sandbox = await startDynamicMcpServer(['run']);
    cleanup(() => sandbox.close());
    // The service asks for no pinning in its meta; only the gateway's configuration decides.
    await register(consul.url, { id: 'sandbox-1', name: 'sandbox', url: sandbox.url.replace(/\/mcp$/, ''), meta: { 'mcp-enabled': 'true', 'mcp-kind': 'mcp', 'mcp-path': new URL(sandbox.url).pathname, 'mcp-pinning': 'off' } });
    const agent = await idp.token('agent', { scope: 'tools:call' });
    const gw = await gateway({ sandbox: { pinning: { mode: 'manual' } } });
    await waitFor(() => gw.core.pins?.pending().some((f) => f.key === 'tool/sandbox/run') === true, 'the sandbox tool awaiting approval');
    expect(gw.core.pins?.pending().map((f) => [f.key, f.status, f.serving])).toEqual([['tool/sandbox/run', 'new', 'hidden']]);
    const before = await listed(gw, agent);
    expect([before.has('dyn_search'), before.has('sandbox_run')]).toEqual([true, false]);

    await approve(gw, 'tool/sandbox/run');
    expect((await listed(gw, agent)).get('sandbox_run')).toBe('tool run');
    expect((await stored('tool/sandbox/run'))?.approvedBy).toBe(`${idp.issuer}#operator`);
  });
});
