/**
 * A REST service registered in a real Consul dev agent, its tools described by an OpenAPI document
 * in Consul KV or on a spec registry the operator allowed (service meta `mcp-openapi`,
 * `catalog.consul.openapiUrls`), listed and called through the official MCP SDK client.
 */
import { createServer, type Server } from 'node:http';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { connectClient } from '../support/client.js';
import { kvPut, register, waitFor } from '../support/consul-api.js';
import { startGateway, type TestGateway } from '../support/gateway.js';

let consul: ConsulHandle;
let orders: OrdersApi;
let gw: TestGateway;
let client: Client;
let createdId = '';
/** A central spec registry (not one of any service's instances), and a host nobody allowed; both count the paths asked. */
let registry: Server;
let registryUrl: string;
let elsewhere: Server;
let elsewhereUrl: string;
const asked = new Map<string, number>();

/** The orders API as its team would describe it; `withCancel` is the next version of the document. */
const ordersDocument = (withCancel: boolean) => ({
  openapi: '3.1.0',
  info: { title: 'Orders', version: '1' },
  paths: {
    '/orders': {
      get: { operationId: 'listOrders', parameters: [{ name: 'status', in: 'query', schema: { type: 'string', enum: ['open', 'cancelled'] } }] },
      post: {
        operationId: 'createOrder',
        requestBody: { required: true, content: { 'application/json': { schema: { type: 'object', required: ['item'], properties: { item: { type: 'string' }, quantity: { type: 'integer' } } } } } },
      },
    },
    ...(withCancel ? { '/orders/{id}/cancel': { post: { operationId: 'cancelOrder', parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }] } } } : {}),
  },
});

const names = async (): Promise<string[]> => (await client.listTools()).tools.map((t) => t.name).sort();

/** Serves the orders document at every path, except `/apis/moved.json`, which redirects to the host nobody allowed. */
function documentServer(name: string): Server {
  return createServer((req, res) => {
    asked.set(`${name} ${req.url}`, (asked.get(`${name} ${req.url}`) ?? 0) + 1);
    if (name === 'registry' && req.url === '/apis/moved.json') return void res.writeHead(302, { location: `${elsewhereUrl}/apis/orders.json` }).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ordersDocument(false)));
  });
}

beforeAll(async () => {
  consul = await startConsul();
  orders = await startOrdersApi({ name: 'a' });
  registry = documentServer('registry');
  registryUrl = await listen(registry);
  elsewhere = documentServer('elsewhere');
  elsewhereUrl = await listen(elsewhere);
  const openapiUrls = [`${registryUrl}/apis/`];
  gw = await startGateway({ catalog: { refreshIntervalMs: 200, consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500, openapiUrls } } });
  ({ client } = await connectClient(gw.url));
});

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await orders?.close();
  if (registry) await closeServer(registry);
  if (elsewhere) await closeServer(elsewhere);
  await consul?.stop();
});

describe('OpenAPI documents in Consul KV', () => {
  it('lists and calls the operations of the document a service names in mcp-openapi', async () => {
    await kvPut(consul.url, 'mcp/openapi/orders', ordersDocument(false));
    await register(consul.url, { id: 'orders-a', name: 'orders', url: orders.url, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest', 'mcp-openapi': 'mcp/openapi/orders' } });
    await waitFor(async () => (await names()).length === 2, 'the service listed with its document’s tools', 15_000);
    expect(await names()).toEqual(['orders_createOrder', 'orders_listOrders']);
    const created = await client.callTool({ name: 'orders_createOrder', arguments: { item: 'bolt', quantity: 3 } });
    expect(created.structuredContent).toMatchObject({ item: 'bolt', quantity: 3, status: 'open' });
    const listed = await client.callTool({ name: 'orders_listOrders', arguments: { status: 'open' } });
    const open = (listed.structuredContent as { orders: Array<{ id: string; status: string }> }).orders;
    expect(open.some((o) => o.id === (created.structuredContent as { id: string }).id)).toBe(true);
    expect(open.every((o) => o.status === 'open')).toBe(true);
    createdId = (created.structuredContent as { id: string }).id;
    expect([orders.calls.get('POST /orders'), orders.calls.get('GET /orders')]).toEqual([1, 1]);
  });

  it('takes a changed document, and keeps the last good tools while the KV value is not a document', async () => {
    await kvPut(consul.url, 'mcp/openapi/orders', ordersDocument(true));
    await waitFor(async () => (await names()).includes('orders_cancelOrder'), 'the new operation listed', 15_000);
    const cancelled = await client.callTool({ name: 'orders_cancelOrder', arguments: { id: createdId } });
    expect(cancelled.structuredContent).toMatchObject({ id: createdId, status: 'cancelled' });

    await kvPut(consul.url, 'mcp/openapi/orders', '{"swagger": "2.0"}');
    const health = async (): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();
    await waitFor(async () => (await health()).checks.backends?.ok === false, 'the bad document reported', 15_000);
    expect((await health()).checks.backends.reason).toContain('orders: Consul KV key "mcp/openapi/orders" has Swagger 2.0; only OpenAPI 3.0 and 3.1 documents are imported');
    expect(await names()).toEqual(['orders_cancelOrder', 'orders_createOrder', 'orders_listOrders']);
  });

  it('leaves out a service whose mcp-openapi names a KV key outside mcp/openapi/, which the gateway would read with its token', async () => {
    // A valid document, so the only thing keeping it out is where it is.
    await kvPut(consul.url, 'vault/db-creds', ordersDocument(false));
    await register(consul.url, { id: 'thief-a', name: 'thief', url: orders.url, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest', 'mcp-openapi': 'vault/db-creds' } });
    const health = async (): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();
    const reported = (p: string) => p.includes('consul service "thief" is left out: service meta mcp-openapi must be') && p.includes('"vault/db-creds"');
    await waitFor(async () => ((await health()).catalog?.problems ?? []).some(reported), 'the service reported', 15_000);
    expect((await names()).filter((n) => n.startsWith('thief'))).toEqual([]);
  });
});

describe('OpenAPI documents on a spec registry the operator allowed (catalog.consul.openapiUrls)', () => {
  const health = async (): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();
  const problems = async (): Promise<string[]> => (await health()).catalog?.problems ?? [];
  const rest = (id: string, name: string, document: string) => register(consul.url, { id, name, url: orders.url, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest', 'mcp-openapi': document } });

  it('lists and calls the tools of a document under an allowed prefix, on a host that is none of the service’s instances', async () => {
    await rest('specs-a', 'specs', `${registryUrl}/apis/orders.json`);
    await waitFor(async () => (await names()).includes('specs_createOrder'), 'the service listed with the registry document’s tools', 15_000);
    expect((await names()).filter((n) => n.startsWith('specs_'))).toEqual(['specs_createOrder', 'specs_listOrders']);
    const before = orders.calls.get('POST /orders') ?? 0;
    const created = await client.callTool({ name: 'specs_createOrder', arguments: { item: 'nut', quantity: 8 } });
    expect(created.structuredContent).toMatchObject({ item: 'nut', quantity: 8, status: 'open' });
    // The document came from the registry; the call went to the service's instance.
    expect(asked.get('registry /apis/orders.json')).toBeGreaterThanOrEqual(1);
    expect(orders.calls.get('POST /orders')).toBe(before + 1);
  });

  it('still leaves out a service whose document is elsewhere: another host, or the allowed host outside the prefix', async () => {
    await rest('outside-a', 'outside', `${elsewhereUrl}/apis/orders.json`);
    await rest('private-a', 'private', `${registryUrl}/private/orders.json`);
    await rest('sneaky-a', 'sneaky', `${registryUrl}/apis/..%2fprivate/orders.json`);
    const own = `must be a URL on one of the service's own instances (${new URL(orders.url).host}) or under catalog.consul.openapiUrls, got `;
    const expected = [
      `consul service "outside" is left out: service meta mcp-openapi ${own}${elsewhereUrl}/apis/orders.json`,
      `consul service "private" is left out: service meta mcp-openapi ${own}${registryUrl}/private/orders.json`,
      `consul service "sneaky" is left out: service meta mcp-openapi ${own}${registryUrl}/apis/..%2fprivate/orders.json (it has a percent-encoded ".", "/", "\\" or "%" in its path)`,
    ];
    await waitFor(async () => {
      const reported = await problems();
      return expected.every((p) => reported.includes(p));
    }, 'the three services reported', 15_000);
    expect((await names()).filter((n) => /^(outside|private|sneaky)_/.test(n))).toEqual([]);
    expect([asked.get('elsewhere /apis/orders.json'), asked.get('registry /private/orders.json')]).toEqual([undefined, undefined]);
  });

  it('refuses a redirect from the allowed registry to elsewhere: the service gets no tools and the other host is never asked', async () => {
    await rest('moved-a', 'moved', `${registryUrl}/apis/moved.json`);
    await waitFor(async () => String((await health()).checks.backends?.reason ?? '').includes(`moved: URL ${registryUrl}/apis/moved.json answered HTTP 302 (redirects are not followed)`), 'the redirect reported', 15_000);
    expect(asked.get('registry /apis/moved.json')).toBeGreaterThanOrEqual(1);
    expect(asked.get('elsewhere /apis/orders.json')).toBeUndefined();
    expect((await names()).filter((n) => n.startsWith('moved_'))).toEqual([]);
  });
});
