/**
 * Consul going away and coming back, for real: the agent is stopped and a new one started on the
 * same HTTP port (a dev agent keeps nothing, so its index starts over — the index-reset path).
 * The gateway must serve its last known catalog meanwhile, say so in /healthz, and recover alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { freePort } from '../harness/ports.js';
import { connectClient } from '../support/client.js';
import { kvPut, register, waitFor } from '../support/consul-api.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';

let port: number;
let consul: ConsulHandle | undefined;
let orders: OrdersApi;
let gw: TestGateway;

const health = async (): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();
const names = (): string[] => [...gw.core.catalog.current().tools.keys()].sort();

async function publishOrders(tools = ORDER_TOOLS): Promise<void> {
  await kvPut(consul!.url, 'mcp/tools/orders', tools);
  await register(consul!.url, { id: 'orders-1', name: 'orders', url: orders.url, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' } });
}

beforeAll(async () => {
  port = await freePort();
  orders = await startOrdersApi();
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
  await consul?.stop();
});

describe('Consul unreachable', () => {
  it('starts without Consul, reports the source stale, and catches up once Consul is there', async () => {
    // Start resolving (within the test's timeout) is the behaviour: startup does not wait for Consul.
    gw = await startGateway({ catalog: { consul: { url: `http://127.0.0.1:${port}`, waitSeconds: 5, retryMaxMs: 300 } } });
    const h = await health();
    expect(h.status).toBe('degraded');
    expect(h.catalog.source.stale).toBe(true);
    expect(h.catalog.source.error).toMatch(/cannot reach Consul/);

    consul = await startConsul({ httpPort: port });
    await publishOrders();
    await waitFor(() => names().includes('orders_get_order'), 'tools from the late Consul', 20_000);
    await waitFor(async () => (await health()).status === 'ok', 'source fresh again');
  }, 60_000);

  it('keeps serving the last known catalog while Consul is down, and recovers by itself', async () => {
    const { client } = await connectClient(gw.url);
    await consul!.stop();
    await waitFor(async () => (await health()).catalog.source.stale === true, 'stale reported');
    const h = await health();
    expect(h.status).toBe('degraded');
    expect(h.catalog.source.lastSuccessAt).toBeLessThanOrEqual(Date.now());
    expect((await client.listTools()).tools.map((t) => t.name)).toContain('orders_get_order');
    const r = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(r.isError).toBeFalsy();

    consul = await startConsul({ httpPort: port });
    // A fresh agent knows nothing: the service's own agent would re-register it; here the test does.
    await publishOrders(ORDER_TOOLS.map((t) => (t.name === 'get_order' ? { ...t, name: 'fetch_order' } : t)));
    await waitFor(() => names().includes('orders_fetch_order'), 'changes after the restart are followed', 20_000);
    await waitFor(async () => (await health()).status === 'ok', 'source fresh again');
    expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('orders_get_order');
    await client.close();
  }, 60_000);
});
