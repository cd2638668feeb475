import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { kvDelete, kvPut, waitFor } from '../support/consul-api.js';
import { jsonOf, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';

const CANCEL = { name: 'cancel_order', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, http: { method: 'POST', path: '/orders/{id}/cancel', body: 'none' } };
const DENY_CANCEL = `package mcp.services.orders
import rego.v1
deny contains "cancellation is frozen" if input.tool.upstreamName == "cancel_order"
`;

let consul: ConsulHandle;
let opa: OpaHandle;
let orders: OrdersApi;
let gw: TestGateway;
let sid: string;

async function cancel(): Promise<any> {
  return jsonOf(await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_cancel_order', arguments: { id: '1001' } } }));
}

async function policyIds(): Promise<string[]> {
  return (await jsonOf(await fetch(`${opa.url}/v1/policies`))).result.map((p: { id: string }) => p.id).sort();
}

beforeAll(async () => {
  [consul, opa, orders] = await Promise.all([startConsul(), startOpa(), startOrdersApi()]);
  gw = await startGateway({
    catalog: { consul: { url: consul.url } },
    // These tests read the snippets' reasons, also for tools the caller may not see.
    policy: { engine: 'opa', url: opa.url, hideUnlisted: false, policyFiles: [fileURLToPath(new URL('../fixtures/policies/allow-all.rego', import.meta.url))] },
    backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: [CANCEL] }],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([orders?.close(), opa?.stop(), consul?.stop()]);
});

describe('service policies from Consul KV', () => {
  it('loads a snippet a service publishes, follows its changes and its removal', async () => {
    expect((await cancel()).result).toBeDefined();
    await kvPut(consul.url, 'mcp/policies/orders', DENY_CANCEL);
    await waitFor(async () => (await cancel()).error?.data?.reason === 'cancellation is frozen', 'the KV policy to deny');
    await kvPut(consul.url, 'mcp/policies/orders', DENY_CANCEL.replace('cancel_order', 'something_else'));
    await waitFor(async () => (await cancel()).result !== undefined, 'the changed KV policy to allow again');
    await kvPut(consul.url, 'mcp/policies/orders', DENY_CANCEL);
    await waitFor(async () => (await cancel()).error !== undefined, 'deny again');
    await kvDelete(consul.url, 'mcp/policies/orders');
    await waitFor(async () => (await cancel()).result !== undefined, 'the removed KV policy to stop denying');
    await waitFor(async () => !(await policyIds()).includes('mcp-gateway-kv-orders'), 'the module to leave OPA');
  });

  it('keeps the last good policy when a service publishes one that does not compile, and others work', async () => {
    await kvPut(consul.url, 'mcp/policies/orders', DENY_CANCEL);
    await waitFor(async () => (await cancel()).error !== undefined, 'the good policy');
    await kvPut(consul.url, 'mcp/policies/orders', 'package mcp.services.orders\ndeny contains "x" if {');
    await kvPut(consul.url, 'mcp/policies/notes', 'package mcp.services.orders\ndeny contains "hijack" if true');
    // A good snippet published after them: once OPA has it, the gateway has seen the two above.
    await kvPut(consul.url, 'mcp/policies/marker', 'package mcp.services.marker\nimport rego.v1\ndeny contains "never" if false');
    await waitFor(async () => (await policyIds()).includes('mcp-gateway-kv-marker'), 'a later snippet to reach OPA');
    expect((await cancel()).error.data.reason).toBe('cancellation is frozen');
    expect(await policyIds()).not.toContain('mcp-gateway-kv-notes');
  });
});
