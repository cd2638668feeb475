import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { sessionRef } from '../../src/telemetry/audit.js';
import { opaBin } from '../harness/components.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { freePort } from '../harness/ports.js';
import { runToEnd } from '../harness/process.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { kvPut } from '../support/consul-api.js';
import { jsonOf, ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const TOKEN = 'bundle-token-0123456789abcdef';
const file = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const CANCEL = { name: 'cancel_order', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, annotations: { destructiveHint: true }, http: { method: 'POST', path: '/orders/{id}/cancel', body: 'none' } };

/** The policy team's own global policy, shipped in a bundle of theirs under the root mcp/policy. */
const TEAM_POLICY = `package mcp.policy
import rego.v1
default allow := false
allow if input.tool.annotations.readOnlyHint == true
allow if input.tool.annotations.destructiveHint == true
reason := "the policy team allows only read-only and cancellation tools"
`;
const FREEZE_GET = `package mcp.services.orders
import rego.v1
deny contains "order lookups are frozen" if input.tool.upstreamName == "get_order"
`;

let dir: string;
let consul: ConsulHandle;
let orders: OrdersApi;
let team: Server;
let teamUrl: string;
let opa: OpaHandle;
let opaConfig: string;
let gw: TestGateway;
let sid: string;
let auditFile: string;

const ARGS: Record<string, Record<string, unknown>> = { orders_create_order: { item: 'mouse', quantity: 1 }, orders_list_orders: {} };

async function call(name: string, id: number | string): Promise<any> {
  return jsonOf(await rawPost(gw.url, sid, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: ARGS[name] ?? { id: '1001' } } }));
}

async function opaBundles(): Promise<Record<string, { manifest: { revision: string; roots: string[] } }>> {
  return (await jsonOf(await fetch(`${opa.url}/v1/data/system/bundles`))).result;
}

const bundleUrl = (): string => `${gw.adminUrl}/policy/bundle.tar.gz`;

beforeAll(async () => {
  dir = makeTempDir('opa-bundle');
  // The policy team builds its bundle with OPA's own tool, and serves it from a server of its own.
  mkdirSync(join(dir, 'team'));
  writeFileSync(join(dir, 'team', 'policy.rego'), TEAM_POLICY);
  writeFileSync(join(dir, 'team', '.manifest'), JSON.stringify({ revision: 'team-1', roots: ['mcp/policy'] }));
  const built = await runToEnd(opaBin(), ['build', '-b', join(dir, 'team'), '-o', join(dir, 'team.tar.gz')], { timeoutMs: 60_000 });
  expect(built.code, built.output).toBe(0);
  const teamBundle = readFileSync(join(dir, 'team.tar.gz'));
  team = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/gzip' }).end(teamBundle));
  await new Promise<void>((r) => team.listen(0, '127.0.0.1', r));
  teamUrl = `http://127.0.0.1:${(team.address() as AddressInfo).port}`;

  [consul, orders] = await Promise.all([startConsul(), startOrdersApi()]);
  const adminPort = await freePort();
  opaConfig = `
services:
  gateway:
    url: http://127.0.0.1:${adminPort}
    credentials: { bearer: { token: ${TOKEN} } }
  team:
    url: ${teamUrl}
bundles:
  mcp-gateway:
    service: gateway
    resource: /policy/bundle.tar.gz
    polling: { min_delay_seconds: 1, max_delay_seconds: 2 }
  team:
    service: team
    resource: /team.tar.gz
    polling: { min_delay_seconds: 1, max_delay_seconds: 2 }
decision_logs:
  console: true
`;
  opa = await startOpa({ config: opaConfig, logLevel: 'info' });
  auditFile = join(dir, 'audit.jsonl');
  gw = await startGateway({
    admin: { port: adminPort },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
    catalog: { consul: { url: consul.url } },
    policy: {
      engine: 'opa',
      url: opa.url,
      delivery: 'bundle',
      bundle: { token: TOKEN },
      hideUnlisted: false,
      listCacheMs: 0,
      checkIntervalMs: 200,
      servicePolicies: { orders: file('examples/policies/orders.rego'), broken: file('test/fixtures/policies/broken.rego') },
    },
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: [...ORDER_TOOLS, CANCEL] }],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
  await waitFor(() => gw.core.health().status === 'ready', 'OPA to activate the gateway bundle');
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([orders?.close(), opa?.stop(), consul?.stop(), new Promise((r) => (team ? team.close(r) : r(undefined)))]);
  if (dir) removeDir(dir);
});

describe('the gateway Rego as an OPA bundle', () => {
  it('OPA decides with the gateway bundle and the policy team bundle side by side', async () => {
    const bundles = await opaBundles();
    expect(bundles['mcp-gateway']!.manifest.roots).toEqual(['mcp/gateway', 'mcp/services']);
    expect(bundles['mcp-gateway']!.manifest.revision).toBe(gw.core.policyBundle!.revision);
    expect(bundles.team!.manifest).toMatchObject({ revision: 'team-1', roots: ['mcp/policy'] });
    // The team's global policy allows read-only tools and refuses the others with its reason…
    expect((await call('orders_get_order', 1)).result.isError).toBeFalsy();
    expect((await call('orders_create_order', 2)).error.data.reason).toBe('the policy team allows only read-only and cancellation tools');
    // …and the orders service's snippet (the gateway's bundle) narrows what it allows.
    expect((await call('orders_cancel_order', 3)).error.data.reason).toBe('only admins may cancel orders');
  });

  it('answers 304 to a poll that finds nothing new, and 401 without the token', async () => {
    const first = await fetch(bundleUrl(), { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(first.status).toBe(200);
    expect(first.headers.get('content-type')).toBe('application/gzip');
    const etag = first.headers.get('etag')!;
    expect(etag).toBe(`"${gw.core.policyBundle!.revision}"`);
    const again = await fetch(bundleUrl(), { headers: { authorization: `Bearer ${TOKEN}`, 'if-none-match': etag } });
    expect(again.status).toBe(304);
    expect(await again.text()).toBe('');
    expect((await fetch(bundleUrl())).status).toBe(401);
    expect((await fetch(bundleUrl(), { headers: { authorization: 'Bearer not-the-token-at-all' } })).status).toBe(401);
  });

  it('leaves out a snippet that does not compile, keeping the others in force', async () => {
    writeFileSync(join(dir, 'served.tar.gz'), Buffer.from(await (await fetch(bundleUrl(), { headers: { authorization: `Bearer ${TOKEN}` } })).arrayBuffer()));
    const listing = await runToEnd('tar', ['-tzf', join(dir, 'served.tar.gz')], { timeoutMs: 10_000 });
    expect(listing.code).toBe(0);
    expect(listing.output.split('\n').filter(Boolean).sort()).toEqual(['.manifest', 'mcp-gateway-base.rego', 'mcp-gateway-service-orders.rego']);
  });

  it('a Rego change reaches OPA as a new revision', async () => {
    const before = gw.core.policyBundle!.revision;
    await kvPut(consul.url, 'mcp/policies/orders', FREEZE_GET);
    await waitFor(async () => (await call('orders_get_order', 4)).error?.data?.reason === 'order lookups are frozen', 'OPA to fetch the changed bundle');
    const after = gw.core.policyBundle!.revision;
    expect(after).not.toBe(before);
    expect((await opaBundles())['mcp-gateway']!.manifest.revision).toBe(after);
    // A later snippet that does not compile changes nothing: the last one OPA took stays in force.
    await kvPut(consul.url, 'mcp/policies/orders', `${FREEZE_GET}deny contains "x" if {`);
    await waitFor(() => gw.core.policyBundle!.revision === after, 'the broken snippet to be judged');
    expect((await call('orders_get_order', 5)).error.data.reason).toBe('order lookups are frozen');
  });

  it('an OPA restarted fetches the bundle again by itself', async () => {
    await opa.stop();
    await waitFor(() => gw.core.health().status === 'not ready', 'readiness to notice OPA is gone');
    expect((await call('orders_get_order', 6)).error.data.code).toBe('GW_POLICY_UNAVAILABLE');
    opa = await startOpa({ port: opa.port, config: opaConfig, logLevel: 'info', waitForBundles: true });
    expect((await call('orders_get_order', 7)).error.data.reason).toBe('order lookups are frozen');
    expect((await call('orders_list_orders', 8)).result.isError).toBeFalsy();
    await waitFor(() => gw.core.health().status === 'ready', 'readiness to recover');
  });

  it("OPA's decision log and the audit trail share the session and request of a call", async () => {
    await call('orders_create_order', 'joined-9');
    const ref = sessionRef(sid);
    await waitFor(() => opa.output().includes('"joined-9"'), 'the decision log entry');
    const logged = opa
      .output()
      .split('\n')
      .filter((l) => l.includes('"decision_id"') && l.includes('"joined-9"'))
      .map((l) => JSON.parse(l));
    expect(logged).toHaveLength(1);
    expect(logged[0].input.context.audit).toEqual({ session: ref, request: 'joined-9' });
    expect(logged[0].result).toMatchObject({ allow: false });
    await waitFor(() => readFileSync(auditFile, 'utf8').includes('"joined-9"'), 'the audit event');
    const audited = readFileSync(auditFile, 'utf8')
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l))
      .filter((e) => e.session === ref && e.request === 'joined-9');
    expect(audited).toEqual([expect.objectContaining({ event: 'mcp.denial', code: 'GW_POLICY_DENIED', tool: 'orders_create_order' })]);
  });
});
