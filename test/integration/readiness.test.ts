/**
 * Truthful liveness and readiness, and recovery without a restart: OPA restarted mid-run (which
 * loses every policy the gateway loaded), a native backend that cannot be discovered, and a
 * token issuer that cannot be reached. Real OPA, real SDK backend, real HTTP.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { deadUrl } from '../support/http-backends.js';
import { freePort } from '../harness/ports.js';
import { startIdp } from '../support/oidc.js';
import { jsonOf, ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { stopAfterEach } from '../support/cleanup.js';
import { waitFor } from '../support/wait.js';

const ALLOW_ALL = fileURLToPath(new URL('../fixtures/policies/allow-all.rego', import.meta.url));
const stopLater = stopAfterEach();

let orders: OrdersApi;
beforeAll(async () => {
  orders = await startOrdersApi();
});
afterAll(async () => {
  await orders?.close();
});

const readyz = async (gw: TestGateway): Promise<{ status: number; body: any }> => {
  const res = await fetch(`${gw.adminUrl}/readyz`);
  return { status: res.status, body: await res.json() };
};

describe('readiness', () => {
  it('goes not ready while OPA lost its policies, loads them again after an OPA restart, and serves again without a restart', async () => {
    let opa: OpaHandle = await startOpa();
    stopLater(() => opa.stop());
    const gw = await startGateway({ policy: { engine: 'opa', url: opa.url, policyFiles: [ALLOW_ALL], checkIntervalMs: 200, listCacheMs: 0 }, backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
    stopLater(() => gw.stop());
    const { sessionId } = await rawInitialize(gw.url);
    const call = async () => jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } }));
    const listed = async () => (await jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/list' }))).result.tools.length;

    expect((await call()).result.structuredContent.id).toBe('1001');
    expect(await readyz(gw)).toMatchObject({ status: 200, body: { status: 'ready' } });
    expect((await jsonOf(await fetch(`${gw.adminUrl}/livez`))).status).toBe('alive');

    const port = opa.port;
    await opa.stop();
    expect((await call()).error.data.code).toBe('GW_POLICY_UNAVAILABLE');
    await waitFor(async () => (await readyz(gw)).status === 503, 'not ready while OPA is down');
    const down = await readyz(gw);
    expect(down.body.checks.policy).toMatchObject({ ok: false, critical: true });
    expect(down.body.checks.policy.reason).toContain('OPA');
    // The liveness probe does not restart a gateway that waits for OPA.
    expect((await fetch(`${gw.adminUrl}/livez`)).status).toBe(200);

    // A new OPA on the same address holds nothing the gateway loaded.
    opa = await startOpa({ port });
    await waitFor(async () => (await call()).result?.structuredContent?.id === '1001', 'calls allowed again after the OPA restart', 15_000);
    expect(await listed()).toBe(ORDER_TOOLS.length);
    expect(await readyz(gw)).toMatchObject({ status: 200, body: { status: 'ready' } });
  });

  it('is degraded, not down, while a native backend cannot be discovered, and says which', async () => {
    const gw = await startGateway({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }, { name: 'ghost', kind: 'mcp', urls: [`${await deadUrl()}/mcp`] }] });
    stopLater(() => gw.stop());
    await waitFor(async () => (await readyz(gw)).body.status === 'degraded', 'degraded');
    const r = await readyz(gw);
    expect(r.status).toBe(200);
    expect(r.body.checks.backends).toMatchObject({ ok: false, critical: false });
    expect(r.body.checks.backends.reason).toContain('ghost');
    const health = await jsonOf(await fetch(`${gw.adminUrl}/healthz`));
    expect(health.status).toBe('degraded');
  });

  it('is not ready while the token issuer is down at start, and serves tokens once it comes up, without a restart', async () => {
    const port = await freePort();
    const issuer = `http://127.0.0.1:${port}`;
    const audience = 'http://gw.test/mcp';
    const gw = await startGateway({ auth: { issuer, audience } });
    stopLater(() => gw.stop());
    const r = await readyz(gw);
    expect(r.status).toBe(503);
    expect(r.body.checks.auth.reason).toContain('has not been reached');
    const init = (token: string) => rawPost(gw.url, undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } }, { authorization: `Bearer ${token}` });
    expect((await init('a.b.c')).status).toBe(503);

    const idp = await startIdp([{ id: 'alice' }], audience, port);
    stopLater(() => idp.close());
    const token = await idp.token('alice');
    // Discovery retries with backoff (0.5 s, 1 s, 2 s…).
    await waitFor(async () => (await init(token)).status === 200, 'tokens verified once the issuer is up', 20_000);
    expect(await readyz(gw)).toMatchObject({ status: 200, body: { status: 'ready' } });
  }, 30_000);
});
