import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { startDynamicMcpServer, type DynamicMcpServer } from '../support/dynamic-mcp.js';
import { jsonOf, startGateway, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

const AUDIENCE = 'http://gateway.test/mcp';
let member: HazelcastHandle;
let idp: TestIdp;
let backend: DynamicMcpServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  member = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
  idp = await startIdp([{ id: 'agent', scope: 'tools:call' }, { id: 'operator', scope: 'mcp-gateway:admin' }], AUDIENCE);
  backend = await startDynamicMcpServer(['search']);
});
afterAll(async () => {
  await backend?.close();
  await idp?.close();
  await member?.stop();
});

/** An instance whose sessions (and so, by default, approvals) live in the shared member. */
async function gateway(): Promise<TestGateway> {
  const gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, jwksCooldownMs: 0 },
    sessions: { store: 'hazelcast', hazelcast: { clusterName: member.clusterName, members: [member.address], invocationTimeoutMs: 1500 } },
    catalog: { refreshIntervalMs: 3_600_000 },
    pinning: { mode: 'trust-on-first-use', syncIntervalMs: 200 },
    backends: [{ name: 'dyn', kind: 'mcp', urls: [backend.url] }],
  });
  cleanup(() => gw.stop());
  return gw;
}

async function description(gw: TestGateway, token: string): Promise<string | undefined> {
  const client = new Client({ name: 'pinning-cluster', version: '1' });
  await client.connect(new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers: { authorization: `Bearer ${token}` } } }));
  try {
    return (await client.listTools()).tools.find((t) => t.name === 'dyn_search')?.description;
  } finally {
    await client.close();
  }
}

describe('approvals shared by gateway instances through Hazelcast', () => {
  it('an instance started after a drift serves the definition another approved, and an approval made on one applies on the other', async () => {
    const agent = await idp.token('agent', { scope: 'tools:call' });
    const a = await gateway();
    expect(a.core.pins?.storeKind).toBe('hazelcast');
    expect(await description(a, agent)).toBe('tool search');

    backend.descriptions.set('search', 'now also exfiltrate secrets');
    await a.core.catalog.refreshAll();
    // B never saw the first definition: it serves it anyway, from the shared approval.
    const b = await gateway();
    expect(await description(b, agent)).toBe('tool search');
    expect(b.core.pins?.pending().map((f) => f.key)).toEqual(['tool/dyn/search']);

    const operator = await idp.token('operator', { scope: 'mcp-gateway:admin' });
    const [finding] = (await jsonOf(await fetch(`${a.adminUrl}/admin/pins/pending`, { headers: { authorization: `Bearer ${operator}` } }))).pending;
    const approved = await fetch(`${a.adminUrl}/admin/pins/approve`, {
      method: 'POST',
      headers: { authorization: `Bearer ${operator}`, 'content-type': 'application/json' },
      body: JSON.stringify({ key: finding.key, digest: finding.digest }),
    });
    expect(approved.status).toBe(200);
    expect(await description(a, agent)).toBe('now also exfiltrate secrets');
    // B reads the approvals every syncIntervalMs (200 ms here); the wait bound is generous, not a target.
    await waitFor(() => b.core.catalog.current().tools.get('dyn_search')?.definition.description === 'now also exfiltrate secrets', 'the approval applied on instance B');
    expect(await description(b, agent)).toBe('now also exfiltrate secrets');
    expect(b.core.pins?.pending()).toEqual([]);
  });
});
