/**
 * `GET /livez` on the MCP listener: what Envoy's health checks of the broker cluster ask
 * (envoy/envoy.yaml). It must answer on a working replica whatever the admin port and whatever
 * Host the checker sends (Envoy sends the cluster's name), and keep answering while a dependency
 * every replica shares is down, or one outage would take every replica out.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { deadUrl } from '../support/http-backends.js';
import { ORDER_TOOLS, rawHttp, startExtProc, startGateway } from '../support/gateway.js';
import { stopAfterEach } from '../support/cleanup.js';

const stopLater = stopAfterEach();

let orders: OrdersApi;
beforeAll(async () => {
  orders = await startOrdersApi();
});
afterAll(async () => {
  await orders?.close();
});

describe('GET /livez on the MCP listener', () => {
  it("answers on the Envoy topology's broker under any Host while the gateway is not ready, and the broker still serves nothing else of the admin listener's", async () => {
    // The identity provider cannot be reached: the gateway is not ready, on every replica alike.
    const gw = await startExtProc({
      server: { allowedHosts: ['mcp.example.com'] },
      auth: { issuer: await deadUrl(), audience: 'http://mcp.example.com/mcp' },
      backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }],
    });
    stopLater(() => gw.stop());
    expect((await fetch(`${gw.adminUrl}/readyz`)).status).toBe(503);

    const broker = (path: string, host: string) => rawHttp(new URL(path, gw.brokerUrl).href, { headers: { host } });
    for (const host of ['broker', 'mcp.example.com', 'evil.example.com']) {
      const live = await broker('/livez', host);
      expect({ host, status: live.status, body: JSON.parse(live.text) }).toEqual({ host, status: 200, body: { status: 'alive' } });
    }
    for (const path of ['/readyz', '/healthz', '/metrics']) expect({ path, status: (await broker(path, 'mcp.example.com')).status }).toEqual({ path, status: 404 });
    // Only the liveness answer skips the Host allow-list.
    expect((await broker('/healthz', 'evil.example.com')).status).toBe(403);
  });

  it('answers on a standalone gateway that has an admin listener, beside it', async () => {
    const gw = await startGateway({ admin: { port: 0 }, backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
    stopLater(() => gw.stop());
    const mcpOrigin = new URL(gw.url).origin;
    expect(gw.adminUrl).not.toBe(mcpOrigin);
    const live = await fetch(`${mcpOrigin}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive' });
    expect((await fetch(`${mcpOrigin}/healthz`)).status).toBe(404);
    expect((await fetch(`${gw.adminUrl}/livez`)).status).toBe(200);
  });

  it('answers with the MCP endpoint at the root (server.path "/"), where /livez would otherwise name a virtual server', async () => {
    const gw = await startGateway({ server: { path: '/' }, admin: { port: 0 }, backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
    stopLater(() => gw.stop());
    const live = await fetch(`${new URL(gw.url).origin}/livez`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'alive' });
  });
});

