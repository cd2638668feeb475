/**
 * The example backends' self-registration (examples/backends/consul-register.ts, through the
 * `consul` package) against a real Consul dev agent: what it writes is what the gateway reads, so
 * the tools appear, answer, and leave again with the deregistration.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerInConsul } from '../../examples/backends/consul-register.js';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { connectClient } from '../support/client.js';
import { waitFor } from '../support/consul-api.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';

let consul: ConsulHandle;
let orders: OrdersApi;
let notes: NotesServer;
let gw: TestGateway;

const names = (): string[] => [...gw.core.catalog.current().tools.keys()];

beforeAll(async () => {
  [consul, orders, notes] = await Promise.all([startConsul(), startOrdersApi(), startNotesServer()]);
  gw = await startGateway({ catalog: { consul: { url: consul.url } } });
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([orders?.close(), notes?.close(), consul?.stop()]);
});

describe('example backends registering themselves in Consul', () => {
  it('publish REST tools and a native MCP server the gateway serves, until they deregister', async () => {
    const at = (url: string): URL => new URL(url);
    const deregisterOrders = await registerInConsul({ consulUrl: consul.url, name: 'orders', kind: 'rest', address: at(orders.url).hostname, port: Number(at(orders.url).port), tools: ORDER_TOOLS });
    const deregisterNotes = await registerInConsul({ consulUrl: `${consul.url}/`, name: 'notes', kind: 'mcp', address: at(notes.url).hostname, port: Number(at(notes.url).port), path: at(notes.url).pathname });
    await waitFor(() => names().includes('orders_get_order') && names().some((n) => n.startsWith('notes_')), 'both registered backends in the catalog');

    const { client } = await connectClient(gw.url);
    const r = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(r.isError).toBeFalsy();
    await client.close();

    await deregisterOrders();
    await deregisterNotes();
    await waitFor(() => names().length === 0, 'the deregistered backends to leave');
  });
});
