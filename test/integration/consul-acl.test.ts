/**
 * Consul with ACLs on (default deny), for real: the gateway's `catalog.consul.token` reaches the
 * agent through the `consul` package on every watch, and a token Consul refuses leaves the source
 * stale with Consul's answer in /healthz instead of an empty catalog that looks healthy.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { consulClient } from '../../src/catalog/consul/client.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { waitFor } from '../support/consul-api.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';

const MANAGEMENT = randomUUID();
let consul: ConsulHandle;
let orders: OrdersApi;
const gateways: TestGateway[] = [];

const health = async (gw: TestGateway): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();

beforeAll(async () => {
  // The agent token lets the dev agent sync its own registrations into the catalog.
  consul = await startConsul({ hcl: `acl { enabled = true, default_policy = "deny", tokens { initial_management = "${MANAGEMENT}", agent = "${MANAGEMENT}" } }` });
  orders = await startOrdersApi();
  const admin = consulClient({ url: consul.url, token: MANAGEMENT });
  try {
    await admin.kv.set('mcp/tools/orders', JSON.stringify(ORDER_TOOLS));
    const u = new URL(orders.url);
    await admin.agent.service.register({ id: 'orders-1', name: 'orders', address: u.hostname, port: Number(u.port), meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' } });
  } finally {
    admin.destroy();
  }
});

afterAll(async () => {
  await Promise.all(gateways.map((g) => g.stop()));
  await Promise.all([orders?.close(), consul?.stop()]);
});

async function gatewayWithToken(token: string): Promise<TestGateway> {
  const gw = await startGateway({ catalog: { consul: { url: consul.url, token, waitSeconds: 5, retryMaxMs: 300 } } });
  gateways.push(gw);
  return gw;
}

describe('Consul with ACLs', () => {
  it('discovers services with a token that may read them', async () => {
    const gw = await gatewayWithToken(MANAGEMENT);
    await waitFor(() => gw.core.catalog.current().tools.has('orders_get_order'), 'the tools read with the token');
    expect((await health(gw)).status).toBe('ok');
  });

  it('reports a token Consul refuses as a stale source naming the refusal', async () => {
    const gw = await gatewayWithToken(randomUUID());
    await waitFor(async () => (await health(gw)).catalog.source.stale === true, 'the refused token to show');
    const h = await health(gw);
    expect(h.status).toBe('degraded');
    expect(h.catalog.source.error).toMatch(/^Consul answered \/v1\/\S+ with HTTP 403: .*ACL not found/);
    expect(gw.core.catalog.current().tools.size).toBe(0);
  });
});
