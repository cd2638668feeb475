/**
 * Virtual servers written to a real Consul dev agent's KV (`mcp/virtual-servers/<name>`), served at
 * `/mcp/<name>` to the official MCP SDK client: one appears, a change is taken without a restart,
 * and a bad value keeps the last good version in force.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { connectClient } from '../support/client.js';
import { kvPut, register, waitFor } from '../support/consul-api.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';

let consul: ConsulHandle;
let orders: OrdersApi;
let gw: TestGateway;

/** Tool names an SDK client sees at `path` (a fresh session each time: the server's current selection). */
async function namesAt(path: string): Promise<string[]> {
  const { client } = await connectClient(new URL(path, gw.url).href);
  try {
    return (await client.listTools()).tools.map((t) => t.name).sort();
  } finally {
    await client.close();
  }
}

const answers = async (path: string): Promise<number> => (await fetch(new URL(path, gw.url), { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' }, body: '{}' })).status;

beforeAll(async () => {
  consul = await startConsul();
  orders = await startOrdersApi({ name: 'a' });
  await kvPut(consul.url, 'mcp/tools/orders', ORDER_TOOLS);
  await register(consul.url, { id: 'orders-a', name: 'orders', url: orders.url, meta: { 'mcp-enabled': 'true', 'mcp-kind': 'rest' } });
  gw = await startGateway({
    catalog: { refreshIntervalMs: 200, consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500 } },
  });
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
  await consul?.stop();
});

describe('virtual servers from Consul KV', () => {
  it('serves a server written to KV at /mcp/<name>, with its subset, renames and instructions', async () => {
    await waitFor(async () => (await namesAt(new URL(gw.url).pathname)).length === 4, 'the orders tools on /mcp', 15_000);
    expect(await answers(`${new URL(gw.url).pathname}/support`)).toBe(404);

    await kvPut(consul.url, 'mcp/virtual-servers/support', {
      instructions: 'Look up orders for customers.',
      select: { backends: ['orders'], annotations: { readOnlyHint: true } },
      rename: { orders_get_order: 'lookup_order' },
    });
    const support = `${new URL(gw.url).pathname}/support`;
    await waitFor(async () => (await answers(support)) !== 404, 'the support server served', 15_000);
    expect(await namesAt(support)).toEqual(['lookup_order', 'orders_list_orders', 'orders_track_order']);

    const { client } = await connectClient(new URL(support, gw.url).href);
    try {
      expect(client.getInstructions()).toBe('Look up orders for customers.');
      const created = await fetch(new URL('/orders', orders.url), { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ item: 'bolt', quantity: 2 }) });
      const { id } = (await created.json()) as { id: string };
      const found = await client.callTool({ name: 'lookup_order', arguments: { id } });
      expect(found.structuredContent).toMatchObject({ id, item: 'bolt' });
      // Outside the subset: unknown on this endpoint, and the backend is not called.
      const posts = orders.calls.get('POST /orders');
      await expect(client.callTool({ name: 'orders_create_order', arguments: { item: 'x', quantity: 1 } })).rejects.toThrow(/Unknown tool/);
      expect(orders.calls.get('POST /orders')).toBe(posts);
    } finally {
      await client.close();
    }
    // /mcp still serves the whole catalog.
    expect(await namesAt(new URL(gw.url).pathname)).toEqual(['orders_create_order', 'orders_get_order', 'orders_list_orders', 'orders_track_order']);
  });

  it('takes a changed value, and keeps the last good version while the value is invalid', async () => {
    const support = `${new URL(gw.url).pathname}/support`;
    await kvPut(consul.url, 'mcp/virtual-servers/support', { select: { names: ['orders_create_order', 'orders_get_order'] } });
    await waitFor(async () => (await namesAt(support)).includes('orders_create_order'), 'the changed selection served', 15_000);
    expect(await namesAt(support)).toEqual(['orders_create_order', 'orders_get_order']);

    // Each bad value is followed by a marker server in the same folder: Consul answers the folder
    // whole, so once the marker is served the bad value has been read (and refused).
    const bad = [{ select: { names: ['orders_*'] }, rename: { orders_get_order: 'not a valid name!' } }, '{ not json', { select: {}, name: 'other' }];
    for (const [i, value] of bad.entries()) {
      await kvPut(consul.url, 'mcp/virtual-servers/support', value);
      await kvPut(consul.url, `mcp/virtual-servers/marker-${i}`, { select: { names: ['orders_list_orders'] } });
      await waitFor(async () => (await answers(`${new URL(gw.url).pathname}/marker-${i}`)) !== 404, `marker ${i} served`, 15_000);
      expect(await namesAt(support)).toEqual(['orders_create_order', 'orders_get_order']);
    }
  });
});
