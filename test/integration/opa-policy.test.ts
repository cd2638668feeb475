import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { jsonOf, ORDER_TOOLS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { waitFor } from '../support/wait.js';

const AUDIENCE = 'http://gateway.test/mcp';
const file = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const CANCEL = { name: 'cancel_order', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, annotations: { destructiveHint: true }, http: { method: 'POST', path: '/orders/{id}/cancel', body: 'none' } };

let idp: TestIdp;
let opa: OpaHandle;
let orders: OrdersApi;
let library: LibraryServer;
let gw: TestGateway;

/** A session for one persona: [session id, auth header]. */
async function login(client: string): Promise<{ sid: string; auth: Record<string, string> }> {
  const auth = { authorization: `Bearer ${await idp.token(client, { scope: 'tools:call' })}` };
  const res = await rawPost(gw.url, undefined, { jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: client, version: '1' } } }, auth);
  expect(res.status).toBe(200);
  return { sid: res.headers.get('mcp-session-id')!, auth };
}

async function call(who: { sid: string; auth: Record<string, string> }, name: string, args: Record<string, unknown>, id: number | string = 7) {
  return jsonOf(await rawPost(gw.url, who.sid, { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }, who.auth));
}

async function listed(who: { sid: string; auth: Record<string, string> }): Promise<string[]> {
  const body = await jsonOf(await rawPost(gw.url, who.sid, { jsonrpc: '2.0', id: 1, method: 'tools/list' }, who.auth));
  return body.result.tools.map((t: { name: string }) => t.name).sort();
}

beforeAll(async () => {
  idp = await startIdp(
    [
      { id: 'alice', claims: { roles: ['admin'] } },
      { id: 'dave', claims: { roles: ['admin'] } },
      { id: 'bob', claims: { roles: ['analyst'] } },
      { id: 'carol', claims: { roles: ['support'] } },
    ],
    AUDIENCE,
  );
  opa = await startOpa();
  orders = await startOrdersApi();
  library = await startLibraryServer('library');
  gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE },
    policy: {
      engine: 'opa',
      url: opa.url,
      listCacheMs: 0,
      policyFiles: [file('examples/policies/gateway.rego'), file('test/fixtures/policies/resources.rego')],
      servicePolicies: { orders: file('examples/policies/orders.rego'), broken: file('test/fixtures/policies/broken.rego'), notes: file('test/fixtures/policies/wrong-package.rego') },
    },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: [...ORDER_TOOLS, CANCEL] },
      { name: 'library', kind: 'mcp', urls: [library.url] },
    ],
  });
  await waitFor(() => gw.core.catalog.current().resources.size === 1, 'the library discovered');
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
  await library?.close();
  await opa?.stop();
  await idp?.close();
});

describe('authorization with OPA', () => {
  it('shows each caller only the tools policy lets them call', async () => {
    expect(await listed(await login('alice'))).toEqual(['library_find_doc', 'orders_cancel_order', 'orders_create_order', 'orders_get_order', 'orders_list_orders', 'orders_track_order']);
    expect(await listed(await login('bob'))).toEqual(['orders_get_order', 'orders_list_orders', 'orders_track_order']);
    expect(await listed(await login('carol'))).toEqual(['orders_create_order', 'orders_get_order', 'orders_list_orders', 'orders_track_order']);
  });

  it('denies with the policy reason and the request id; allows what policy allows', async () => {
    const bob = await login('bob');
    expect(await call(bob, 'orders_create_order', { item: 'x', quantity: 1 }, 'deny-1')).toEqual({
      jsonrpc: '2.0',
      id: 'deny-1',
      error: { code: -32003, message: 'Denied by policy: analysts may only use read-only tools', data: { code: 'GW_POLICY_DENIED', reason: 'analysts may only use read-only tools' } },
    });
    expect((await call(bob, 'orders_get_order', { id: '1001' })).result.structuredContent.id).toBe('1001');
  });

  it('applies a service policy: order cancellation only for admins', async () => {
    const before = orders.calls.get('POST /orders/:id/cancel') ?? 0;
    const carol = await login('carol');
    expect((await call(carol, 'orders_cancel_order', { id: '1001' })).error.data.reason).toBe('only admins may cancel orders');
    expect(orders.calls.get('POST /orders/:id/cancel') ?? 0).toBe(before);
    const alice = await login('alice');
    expect((await call(alice, 'orders_cancel_order', { id: '1002' })).result.structuredContent.status).toBe('cancelled');
  });

  it('denies state-changing tools to an admin on an untrusted client', async () => {
    const dave = await login('dave');
    expect((await call(dave, 'orders_create_order', { item: 'x', quantity: 1 })).error.data.reason).toBe('this client is not trusted to run state-changing tools');
    expect((await call(dave, 'orders_list_orders', {})).result).toBeDefined();
  });

  it('decides resources by request.kind: listed and readable only where policy allows, beside tool-only rules', async () => {
    const rpc = async (who: { sid: string; auth: Record<string, string> }, method: string, params: Record<string, unknown>, id: number | string = 3) =>
      jsonOf(await rawPost(gw.url, who.sid, { jsonrpc: '2.0', id, method, params }, who.auth));
    const bob = await login('bob');
    expect((await rpc(bob, 'resources/list', {})).result.resources).toEqual([]);
    expect((await rpc(bob, 'resources/templates/list', {})).result.resourceTemplates.map((t: { uriTemplate: string }) => t.uriTemplate)).toEqual(['mcpgw://library/file:///docs/{topic}']);
    expect(await rpc(bob, 'resources/read', { uri: 'mcpgw://library/file:///README.md' }, 'r-1')).toMatchObject({ id: 'r-1', error: { code: -32003, data: { reason: 'no policy rule allows this call' } } });
    expect((await rpc(bob, 'resources/read', { uri: 'mcpgw://library/file:///docs/intro' })).result.contents[0].text).toBe('library on intro');
    expect((await rpc(bob, 'prompts/get', { name: 'library_summarize', arguments: { topic: 'intro' } })).result.messages).toHaveLength(2);
    const alice = await login('alice');
    expect((await rpc(alice, 'resources/list', {})).result.resources.map((r: { uri: string }) => r.uri)).toEqual(['mcpgw://library/file:///README.md']);
    expect((await rpc(alice, 'resources/read', { uri: 'mcpgw://library/file:///README.md' })).result.contents[0].text).toBe('# library');
  });

  it('left out the snippet that does not compile and the one claiming another service, keeping the rest', async () => {
    const policies = await jsonOf(await fetch(`${opa.url}/v1/policies`));
    const ids = policies.result.map((p: { id: string }) => p.id).sort();
    expect(ids).toEqual(['mcp-gateway-base', 'mcp-gateway-file-gateway.rego', 'mcp-gateway-file-resources.rego', 'mcp-gateway-service-orders']);
  });

  it('fails closed when OPA is unreachable', async () => {
    const alice = await login('alice');
    await opa.stop();
    const denied = await call(alice, 'orders_list_orders', {}, 'x');
    expect(denied).toMatchObject({ id: 'x', error: { code: -32003, data: { code: 'GW_POLICY_UNAVAILABLE' } } });
    expect(await listed(alice)).toEqual([]);
  });
});
