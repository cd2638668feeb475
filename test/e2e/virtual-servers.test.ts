/**
 * Virtual servers end to end: the standalone gateway with a REST and a native backend, two
 * virtual servers, real tokens from a real OIDC provider, a real OPA, and the official SDK client.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { sessionRef } from '../../src/telemetry/audit.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { jsonOf, ORDER_TOOLS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { waitFor } from '../support/wait.js';

const AUDIENCE = 'http://gateway.test/mcp';
/**
 * Everything is allowed, except reading order 1002 through the support server (the policy reads
 * `virtualServer`), and order 1001 by a rule written before virtual servers existed: it names the
 * tool by `request.tool`, which a rename must not change.
 */
const POLICY = `package mcp.policy
import rego.v1
default allow := false
allow if {
  not on_support_1002
  not legacy_1001
}
on_support_1002 if {
  input.virtualServer == "support"
  input.request.arguments.id == "1002"
}
legacy_1001 if {
  input.request.tool == "orders_get_order"
  input.request.arguments.id == "1001"
  input.request.arguments.legacy == true
}
reason := sprintf("order 1002 is not for virtual server %v", [input.virtualServer]) if on_support_1002
reason := sprintf("orders_get_order is closed for order 1001 (called as %v)", [input.request.calledAs]) if legacy_1001
`;

let idp: TestIdp;
let opa: OpaHandle;
let orders: OrdersApi;
let library: LibraryServer;
let gw: TestGateway;
let dir: string;
let base: string;
let alice: string;
let bob: string;

beforeAll(async () => {
  dir = makeTempDir('virtual-servers');
  await writeFile(join(dir, 'policy.rego'), POLICY);
  idp = await startIdp([{ id: 'alice', scope: 'tools:call orders:read' }, { id: 'bob', scope: 'tools:call' }], AUDIENCE);
  opa = await startOpa();
  orders = await startOrdersApi();
  library = await startLibraryServer('library');
  gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, requiredScopes: ['tools:call'], scopesSupported: ['tools:call'] },
    policy: { engine: 'opa', url: opa.url, listCacheMs: 0, policyFiles: [join(dir, 'policy.rego')] },
    audit: { sink: 'file', file: join(dir, 'audit.jsonl'), flushIntervalMs: 0 },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'library', kind: 'mcp', urls: [library.url] },
    ],
    virtualServers: [
      {
        name: 'support',
        instructions: 'Look up orders for customers.',
        select: { backends: ['orders'], annotations: { readOnlyHint: true } },
        rename: { orders_get_order: 'lookup_order' },
        descriptions: { orders_get_order: 'Look up one order by its id.' },
        scopes: ['orders:read'],
      },
      { name: 'docs', instructions: 'Answer from the documentation.', select: { backends: ['library'] }, rename: { library_find_doc: 'find' } },
    ],
  });
  base = gw.url;
  await waitFor(() => gw.core.catalog.current().tools.has('library_find_doc'), 'the library discovered');
  alice = await idp.token('alice', { scope: 'tools:call orders:read' });
  bob = await idp.token('bob', { scope: 'tools:call' });
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
  await library?.close();
  await opa?.stop();
  await idp?.close();
  if (dir) removeDir(dir);
});

async function connect(path: string, token: string): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'vs-test', version: '1' });
  const transport = new StreamableHTTPClientTransport(new URL(`${base}${path}`), { requestInit: { headers: { authorization: `Bearer ${token}` } } });
  await client.connect(transport);
  return { client, transport };
}

const names = (items: Array<{ name: string }>): string[] => items.map((i) => i.name).sort();

describe('virtual servers', () => {
  it('each endpoint lists exactly its subset, with its instructions, renames and descriptions', async () => {
    const support = (await connect('/support', alice)).client;
    const docs = (await connect('/docs', alice)).client;
    const all = (await connect('', alice)).client;
    const supportTools = (await support.listTools()).tools;
    // The read-only tools of orders: get_order under its new name; create_order is not read-only.
    expect(names(supportTools)).toEqual(['lookup_order', 'orders_list_orders', 'orders_track_order']);
    expect(supportTools.find((t) => t.name === 'lookup_order')!.description).toBe('Look up one order by its id.');
    expect(support.getInstructions()).toBe('Look up orders for customers.');
    expect((await support.listPrompts()).prompts).toEqual([]);
    expect((await support.listResources()).resources).toEqual([]);

    expect(names((await docs.listTools()).tools)).toEqual(['find']);
    expect(names((await docs.listPrompts()).prompts)).toEqual(['library_summarize']);
    expect((await docs.listResources()).resources.map((r) => r.uri)).toEqual(['mcpgw://library/file:///README.md']);
    expect(docs.getInstructions()).toBe('Answer from the documentation.');

    // The default endpoint keeps today's behaviour: the whole catalog, no instructions.
    const everything = names((await all.listTools()).tools);
    expect(everything).toEqual(expect.arrayContaining(['orders_create_order', 'orders_get_order', 'library_find_doc']));
    expect(all.getInstructions()).toBeUndefined();
    for (const c of [support, docs, all]) await c.close();
  });

  it('a renamed tool is called by its new name and reaches the backend under its real one', async () => {
    const { client: support } = await connect('/support', alice);
    const order = await support.callTool({ name: 'lookup_order', arguments: { id: '1001' } });
    expect(order.structuredContent).toMatchObject({ id: '1001' });
    const { client: docs } = await connect('/docs', alice);
    // The native backend knows only "find_doc": it answers because the gateway sent that name.
    const found = await docs.callTool({ name: 'find', arguments: { topic: 'install' } });
    expect(found.isError).toBeFalsy();
    expect(found.content).toEqual(expect.arrayContaining([expect.objectContaining({ type: 'resource_link', uri: 'mcpgw://library/file:///docs/install' })]));
    await support.close();
    await docs.close();
  });

  it('answers a name outside the endpoint exactly as a nonexistent one', async () => {
    const { client, transport } = await connect('/support', alice);
    const sid = transport.sessionId!;
    const ask = async (method: string, params: Record<string, unknown>) => (await jsonOf(await rawPost(`${base}/support`, sid, { jsonrpc: '2.0', id: 5, method, params }, { authorization: `Bearer ${alice}` }))).error;
    const unknown = await ask('tools/call', { name: 'no_such_tool', arguments: {} });
    for (const name of ['orders_create_order', 'orders_get_order', 'library_find_doc']) {
      const outside = await ask('tools/call', { name, arguments: {} });
      expect(outside).toEqual({ ...unknown, message: unknown.message.replace('no_such_tool', name) });
    }
    const noPrompt = await ask('prompts/get', { name: 'no_such_prompt' });
    expect(await ask('prompts/get', { name: 'library_summarize' })).toEqual({ ...noPrompt, message: noPrompt.message.replace('no_such_prompt', 'library_summarize') });
    const noUri = await ask('resources/read', { uri: 'mcpgw://nobody/x' });
    expect(await ask('resources/read', { uri: 'mcpgw://library/file:///README.md' })).toEqual({ ...noUri, message: noUri.message.replace('mcpgw://nobody/x', 'mcpgw://library/file:///README.md') });
    await client.close();
  });

  it('refuses a session on any endpoint but the one it was created on, as an unknown session', async () => {
    const { client, transport } = await connect('/support', alice);
    const sid = transport.sessionId!;
    const list = { jsonrpc: '2.0', id: 3, method: 'tools/list' };
    const auth = { authorization: `Bearer ${alice}` };
    for (const url of [`${base}/docs`, base]) {
      const res = await rawPost(url, sid, list, auth);
      expect(res.status, url).toBe(404);
      expect((await jsonOf(res)).error.data.code).toBe('GW_SESSION_NOT_FOUND');
    }
    expect((await jsonOf(await rawPost(`${base}/support`, sid, list, auth))).result.tools.length).toBeGreaterThan(0);
    await client.close();
  });

  it('enforces the endpoint scopes with a 403 insufficient_scope pointing at its own metadata', async () => {
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'raw', version: '1' } } };
    const res = await rawPost(`${base}/support`, undefined, init, { authorization: `Bearer ${bob}` });
    expect(res.status).toBe(403);
    expect((await jsonOf(res)).error.data.code).toBe('GW_INSUFFICIENT_SCOPE');
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toContain('error="insufficient_scope"');
    expect(challenge).toContain('scope="orders:read"');
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(challenge)![1]!;
    expect(new URL(metadataUrl).pathname).toBe('/.well-known/oauth-protected-resource/mcp/support');
    const metadata = await jsonOf(await fetch(metadataUrl));
    expect(metadata).toMatchObject({ resource: `${base}/support`, authorization_servers: [idp.issuer], scopes_supported: ['tools:call', 'orders:read'] });
    // Bob may use the endpoints that need no more than his token has.
    expect((await rawPost(`${base}/docs`, undefined, init, { authorization: `Bearer ${bob}` })).status).toBe(200);
    // No token: the 401 challenge points at the endpoint's own metadata too.
    const anonymous = await rawPost(`${base}/support`, undefined, init);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get('www-authenticate')).toContain('/.well-known/oauth-protected-resource/mcp/support"');
  });

  it('answers 404 for a virtual server nobody configured, and for its metadata', async () => {
    const res = await rawPost(`${base}/nope`, undefined, { jsonrpc: '2.0', id: 1, method: 'ping' }, { authorization: `Bearer ${alice}` });
    expect(res.status).toBe(404);
    expect((await jsonOf(res)).error.data.code).toBe('GW_UNKNOWN_VIRTUAL_SERVER');
    expect((await fetch(new URL('/.well-known/oauth-protected-resource/mcp/nope', base))).status).toBe(404);
  });

  it('the policy sees the virtual server; audit events and metrics carry it', async () => {
    const { client: support, transport } = await connect('/support', alice);
    const denied = await support.callTool({ name: 'lookup_order', arguments: { id: '1002' } }).catch((e: Error) => e);
    expect(String(denied)).toContain('order 1002 is not for virtual server support');
    const { client: all } = await connect('', alice);
    const allowed = await all.callTool({ name: 'orders_get_order', arguments: { id: '1002' } });
    expect(allowed.structuredContent).toMatchObject({ id: '1002' });
    await support.callTool({ name: 'lookup_order', arguments: { id: '1001' } });
    const events = async () => (await readFile(join(dir, 'audit.jsonl'), 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    const ref = sessionRef(transport.sessionId!);
    const mine = async () => (await events()).filter((x) => x.session === ref);
    await waitFor(async () => (await mine()).length >= 2, 'the support session audited');
    expect(await mine()).toEqual(expect.arrayContaining([
      expect.objectContaining({ event: 'mcp.denial', virtualServer: 'support', code: 'GW_POLICY_DENIED', tool: 'lookup_order' }),
      expect.objectContaining({ event: 'mcp.tool_call', virtualServer: 'support', tool: 'lookup_order', outcome: 'ok' }),
    ]));
    expect((await events()).some((x) => x.event === 'mcp.tool_call' && x.virtualServer === null && x.tool === 'orders_get_order')).toBe(true);
    const { body } = await gw.core.telemetry.metrics.scrape();
    expect(body).toMatch(/mcp_gateway_tool_calls_total\{tool="orders_get_order",backend="orders",outcome="ok",virtual_server="support",era="session"\} [1-9]/);
    expect(body).toMatch(/mcp_gateway_denials_total\{reason_code="GW_POLICY_DENIED",virtual_server="support"\} 1/);
    await support.close();
    await all.close();
  });

  it('a stateless (2026-07-28) client on a virtual server: its subset, its instructions in server/discover, its name in the policy input', async () => {
    const client = new ModernClient({ name: 'vs-modern', version: '1' }, { versionNegotiation: { mode: { pin: '2026-07-28' } } } as never);
    await client.connect(new ModernTransport(new URL(`${base}/support`), { requestInit: { headers: { authorization: `Bearer ${alice}` } } }));
    expect(client.getNegotiatedProtocolVersion()).toBe('2026-07-28');
    expect(client.getInstructions()).toBe('Look up orders for customers.');
    expect(names((await client.listTools()).tools)).toEqual(['lookup_order', 'orders_list_orders', 'orders_track_order']);
    const order = await client.callTool({ name: 'lookup_order', arguments: { id: '1001' } });
    expect(order.structuredContent).toMatchObject({ id: '1001' });
    // The policy denies order 1002 on "support" only: it must see the endpoint of a stateless request too.
    const denied = await client.callTool({ name: 'lookup_order', arguments: { id: '1002' } }).catch((e: Error) => e);
    expect(String(denied)).toContain('order 1002 is not for virtual server support');
    await client.close();
  });

  it('a renamed tool stays under rules that name its catalog name in request.tool; request.calledAs is the rename', async () => {
    const { client: support } = await connect('/support', alice);
    const denied = await support.callTool({ name: 'lookup_order', arguments: { id: '1001', legacy: true } }).catch((e: Error) => e);
    expect(String(denied)).toContain('orders_get_order is closed for order 1001 (called as lookup_order)');
    const { client: all } = await connect('', alice);
    const direct = await all.callTool({ name: 'orders_get_order', arguments: { id: '1001', legacy: true } }).catch((e: Error) => e);
    expect(String(direct)).toContain('orders_get_order is closed for order 1001 (called as orders_get_order)');
    await support.close();
    await all.close();
  });
});
