/**
 * Discovery from a real Consul dev agent: services registered with the agent API, REST tool
 * definitions in KV, health flipped with TTL checks. Everything is observed through the official
 * MCP SDK client: `tools/list`, calls, and `notifications/tools/list_changed` on the GET stream.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { connectClient } from '../support/client.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { deregister, kvDelete, kvPut, register, setHealth, waitFor } from '../support/consul-api.js';
import { ORDER_TOOLS, startGateway, type TestGateway } from '../support/gateway.js';

let consul: ConsulHandle;
let ordersA: OrdersApi;
let ordersB: OrdersApi;
let notes: NotesServer;
let modern: ModernServer;
let gw: TestGateway;
let client: Client;
let listChanged = 0;

const REST = { 'mcp-enabled': 'true', 'mcp-kind': 'rest' };
const names = async (): Promise<string[]> => (await client.listTools()).tools.map((t) => t.name).sort();
const has = (name: string) => async () => (await names()).includes(name);
const lacks = (prefix: string) => async () => !(await names()).some((n) => n.startsWith(prefix));
const health = async (): Promise<any> => (await fetch(new URL('/healthz', gw.url))).json();

beforeAll(async () => {
  consul = await startConsul();
  [ordersA, ordersB, notes, modern] = await Promise.all([startOrdersApi({ name: 'a' }), startOrdersApi({ name: 'b' }), startNotesServer(), startModernServer()]);
  gw = await startGateway({
    catalog: { consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500 } },
    backends: [{ name: 'static', kind: 'rest', urls: [ordersA.url], tools: [ORDER_TOOLS[0]] }],
  });
  ({ client } = await connectClient(gw.url));
  client.setNotificationHandler(ToolListChangedNotificationSchema, () => void listChanged++);
  await waitFor(() => gw.core.streams.count > 0, 'the client holds its GET stream');
});

afterAll(async () => {
  await client?.close();
  await gw?.stop();
  await Promise.all([ordersA?.close(), ordersB?.close(), notes?.close(), modern?.close()]);
  await consul?.stop();
});

describe('discovery from Consul', () => {
  it('starts in sync with only the configured backends and reports the source as fresh', async () => {
    expect(await names()).toEqual(['static_list_orders']);
    const h = await health();
    expect(h.status).toBe('ok');
    expect(h.catalog.source).toMatchObject({ stale: false });
  });

  it('shows a registered REST service with tools from KV and notifies the GET stream', async () => {
    const before = listChanged;
    await kvPut(consul.url, 'mcp/tools/orders', ORDER_TOOLS);
    await register(consul.url, { id: 'orders-a', name: 'orders', url: ordersA.url, meta: REST });
    await waitFor(has('orders_get_order'), 'orders tools listed');
    await waitFor(() => listChanged > before, 'list_changed received');
    const r = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(r.structuredContent).toMatchObject({ id: '1001', item: 'keyboard' });
  });

  it('follows a change of the KV tool definitions', async () => {
    const before = listChanged;
    const renamed = ORDER_TOOLS.map((t) => (t.name === 'list_orders' ? { ...t, name: 'all_orders' } : t));
    await kvPut(consul.url, 'mcp/tools/orders', renamed);
    await waitFor(has('orders_all_orders'), 'renamed tool listed');
    expect(await names()).not.toContain('orders_list_orders');
    await waitFor(() => listChanged > before, 'list_changed received');
  });

  it('sends calls only to passing instances, and drops the tools when none passes', async () => {
    await register(consul.url, { id: 'orders-b', name: 'orders', url: ordersB.url, meta: REST });
    const urls = (): readonly string[] => gw.core.catalog.current().backends.get('orders')?.urls ?? [];
    await waitFor(() => urls().length === 2, 'two instances');
    await setHealth(consul.url, 'orders-a', 'critical');
    await waitFor(() => urls().length === 1, 'failing instance removed');
    const before = ordersB.calls.get('GET /orders') ?? 0;
    for (let i = 0; i < 4; i++) expect((await client.callTool({ name: 'orders_all_orders', arguments: {} })).isError).toBeFalsy();
    expect((ordersB.calls.get('GET /orders') ?? 0) - before).toBe(4);

    await setHealth(consul.url, 'orders-b', 'critical');
    await waitFor(lacks('orders_'), 'tools removed with no passing instance');
    await setHealth(consul.url, 'orders-a', 'passing');
    await waitFor(has('orders_get_order'), 'tools back with a passing instance');
  });

  it('lists a native MCP service through its own tools/list', async () => {
    await register(consul.url, { id: 'notes-1', name: 'notes', url: notes.url.replace(/\/mcp$/, ''), meta: { 'mcp-enabled': 'true', 'mcp-kind': 'mcp', 'mcp-prefix': 'memo' } });
    await waitFor(has('memo_add_note'), 'notes tools listed under the meta prefix');
    const r = await client.callTool({ name: 'memo_add_note', arguments: { text: 'found in consul' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toMatch(/^saved note #\d+$/);
  });

  it('finds a native service that speaks only 2026-07-28 by its server/discover answer, and calls it statelessly', async () => {
    await register(consul.url, { id: 'modern-1', name: 'modern', url: modern.url.replace(/\/mcp$/, ''), meta: { 'mcp-enabled': 'true', 'mcp-kind': 'mcp' } });
    await waitFor(has('modern_echo'), 'the modern tools listed');
    expect((await health()).catalog.eras).toMatchObject({ modern: 'stateless', notes: 'session' });
    const r = await client.callTool({ name: 'modern_echo', arguments: { text: 'via consul' } });
    expect((r.content as Array<{ text: string }>)[0]!.text).toBe('modern: via consul');
    expect(modern.received.some((m) => m.body.method === 'initialize')).toBe(false);
    await deregister(consul.url, 'modern-1');
    await waitFor(lacks('modern_'), 'the modern tools gone');
  });

  it('rejects a malformed KV definition with a clear problem, leaving other services alone', async () => {
    await kvPut(consul.url, 'mcp/tools/broken', [{ name: 'bad tool', http: { path: 'no-slash' } }]);
    await register(consul.url, { id: 'broken-1', name: 'broken', url: ordersB.url, meta: REST });
    await waitFor(async () => (await health()).catalog.problems.some((p: string) => p.includes('"broken"')), 'problem reported');
    const problem = (await health()).catalog.problems.find((p: string) => p.includes('"broken"'));
    expect(problem).toContain('KV key "mcp/tools/broken"');
    expect(problem).toContain('[0].http.path: must start with "/"');
    await kvPut(consul.url, 'mcp/tools/broken', '{not json');
    await waitFor(async () => (await health()).catalog.problems.some((p: string) => p.includes('is not valid JSON')), 'JSON problem reported');
    const listed = await names();
    expect(listed.some((n) => n.startsWith('broken'))).toBe(false);
    expect(listed).toContain('orders_get_order');
    expect(listed).toContain('memo_list_notes');
    expect(listed).toContain('static_list_orders');
    await deregister(consul.url, 'broken-1');
    await kvDelete(consul.url, 'mcp/tools/broken');
  });

  it('leaves out a Consul service whose name a configured backend already uses', async () => {
    await kvPut(consul.url, 'mcp/tools/static', ORDER_TOOLS);
    await register(consul.url, { id: 'static-1', name: 'static', url: ordersB.url, meta: REST });
    await waitFor(async () => (await health()).catalog.problems.some((p: string) => p.includes('backend "static" from consul is left out')), 'clash reported');
    expect((await names()).filter((n) => n.startsWith('static_'))).toEqual(['static_list_orders']);
    expect(gw.core.catalog.current().backends.get('static')!.urls).toEqual([ordersA.url]);
    await deregister(consul.url, 'static-1');
  });

  it('removes a deregistered service', async () => {
    const before = listChanged;
    await deregister(consul.url, 'notes-1');
    await waitFor(lacks('memo_'), 'notes tools removed');
    await waitFor(() => listChanged > before, 'list_changed received');
    expect(await names()).toContain('orders_get_order');
  });
});
