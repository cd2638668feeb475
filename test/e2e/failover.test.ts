import { describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { connectClient } from '../support/client.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';
import { deadUrl, startBrokenStreamServer, startDroppingServer, startSlowServer, type TestServer } from '../support/http-backends.js';
import { stopAfterEach } from '../support/cleanup.js';

const cleanup = stopAfterEach();

async function gatewayFor(urls: string[], extra: Record<string, unknown> = {}): Promise<TestGateway> {
  const gw = await startGateway({ upstream: { cooldownMs: 60_000 }, backends: [{ name: 'orders', kind: 'rest', urls, tools: ORDER_TOOLS }], ...extra });
  cleanup(() => gw.stop());
  return gw;
}

async function orders(): Promise<OrdersApi> {
  const api = await startOrdersApi();
  cleanup(() => api.close());
  return api;
}

async function dropping(): Promise<TestServer> {
  const s = await startDroppingServer();
  cleanup(() => s.close());
  return s;
}

const text = (r: Record<string, unknown>): string => (r.content as Array<{ text: string }>)[0]!.text;

describe('round-robin and failover', () => {
  it('spreads calls over the instances round-robin', async () => {
    const [a, b] = [await orders(), await orders()];
    const gw = await gatewayFor([a.url, b.url]);
    const { client } = await connectClient(gw.url);
    for (let i = 0; i < 10; i++) await client.callTool({ name: 'orders_list_orders', arguments: {} });
    expect(a.calls.get('GET /orders')).toBe(5);
    expect(b.calls.get('GET /orders')).toBe(5);
    await client.close();
  });

  it('fails over when the request never reached an instance, even for side effects, and deprioritises it', async () => {
    const good = await orders();
    const gw = await gatewayFor([await deadUrl(), good.url]);
    const { client } = await connectClient(gw.url);
    for (let i = 0; i < 4; i++) {
      const r = await client.callTool({ name: 'orders_create_order', arguments: { item: `thing-${i}`, quantity: 1 } });
      expect(r.isError).toBeFalsy();
    }
    expect(good.calls.get('POST /orders')).toBe(4);
    await client.close();
  });

  it('retries a read-only call on another instance after an ambiguous failure', async () => {
    const flaky = await dropping();
    const good = await orders();
    const gw = await gatewayFor([flaky.url, good.url]);
    const { client } = await connectClient(gw.url);
    for (let i = 0; i < 6; i++) {
      const r = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
      expect(r.isError).toBeFalsy();
    }
    expect(flaky.hits.count).toBeGreaterThanOrEqual(1);
    expect(good.calls.get('GET /orders/:id')).toBe(6);
    await client.close();
  });

  it('never sends a side-effecting call to a second instance once it may have reached the first', async () => {
    const flaky = await dropping();
    const [a, b] = [await orders(), await orders()];
    const gw = await gatewayFor([flaky.url, a.url, b.url], { upstream: { cooldownMs: 1 } });
    const { client } = await connectClient(gw.url);
    const results = [];
    for (let i = 0; i < 9; i++) results.push(await client.callTool({ name: 'orders_create_order', arguments: { item: `x${i}`, quantity: 1 } }));
    const failed = results.filter((r) => r.isError);
    const executed = (a.calls.get('POST /orders') ?? 0) + (b.calls.get('POST /orders') ?? 0);
    expect(flaky.hits.count).toBeGreaterThanOrEqual(1);
    // Every request reached exactly one instance: no duplicates, and each failure is reported.
    expect(flaky.hits.count + executed).toBe(9);
    expect(failed).toHaveLength(flaky.hits.count);
    for (const f of failed) {
      expect(text(f)).toContain('not retried elsewhere because the tool may have side effects');
      expect((f._meta as Record<string, string>)['io.github.mcp-gateway/error']).toBe('GW_UPSTREAM_UNAVAILABLE');
    }
    await client.close();
  });

  it('reports every instance down as a tool error the model can read', async () => {
    const gw = await gatewayFor([await deadUrl(), await deadUrl()]);
    const { client } = await connectClient(gw.url);
    const r = await client.callTool({ name: 'orders_list_orders', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/^No backend instance could be reached: tried .*ECONNREFUSED/);
    expect(text(r).match(/No backend instance could be reached/g)).toHaveLength(1);
    await client.close();
  });
});

describe('timeouts', () => {
  it('ends a REST call that exceeds its timeout with an isError result', async () => {
    const slow = await startSlowServer(5_000);
    cleanup(() => slow.close());
    const gw = await startGateway({
      backends: [{ name: 'slow', kind: 'rest', urls: [slow.url], timeoutMs: 200, tools: [{ name: 'wait', http: { method: 'GET', path: '/' } }] }],
    });
    cleanup(() => gw.stop());
    const { client } = await connectClient(gw.url);
    const r = await client.callTool({ name: 'slow_wait', arguments: {} });
    expect(r.isError).toBe(true);
    expect(text(r)).toBe('The backend did not answer in time: no answer within 200 ms');
    expect(slow.hits.count).toBe(1);
    await client.close();
  });
});

describe('a backend that breaks mid-answer', () => {
  it('ends the call with a tool error after relaying what arrived', async () => {
    const broken = await startBrokenStreamServer();
    cleanup(() => broken.close());
    const gw = await startGateway({ backends: [{ name: 'feed', kind: 'rest', urls: [broken.url], tools: [{ name: 'follow', http: { method: 'GET', path: '/' } }] }] });
    cleanup(() => gw.stop());
    const { client } = await connectClient(gw.url);
    const progress: string[] = [];
    const r = await client.callTool({ name: 'feed_follow', arguments: {} }, undefined, { onprogress: (p) => progress.push(p.message ?? '') });
    expect(progress).toEqual(['{"step":1}']);
    expect(r.isError).toBe(true);
    expect(text(r)).toMatch(/connection to backend "feed" lost/);
    await client.close();
  });
});
