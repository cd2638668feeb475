import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LoggingMessageNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { connectClient } from '../support/client.js';
import { startDynamicMcpServer } from '../support/dynamic-mcp.js';
import { waitFor } from '../support/wait.js';
import { ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway, jsonOf } from '../support/gateway.js';

let orders: OrdersApi;
let notes: NotesServer;
let gw: TestGateway;

beforeAll(async () => {
  orders = await startOrdersApi();
  notes = await startNotesServer();
  gw = await startGateway({
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'notes', kind: 'mcp', urls: [notes.url] },
      { name: 'plain', kind: 'mcp', urls: [notes.url], prefix: '' },
    ],
  });
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([orders?.close(), notes?.close()]);
});

describe('tools/list through the gateway', () => {
  it('aggregates REST and native MCP tools under their prefixes', async () => {
    const { client } = await connectClient(gw.url);
    const { tools } = await client.listTools();
    const names = tools.map((t) => t.name).sort();
    expect(names).toEqual([
      'add_note', 'count_slowly', 'list_notes',
      'notes_add_note', 'notes_count_slowly', 'notes_list_notes',
      'orders_create_order', 'orders_get_order', 'orders_list_orders', 'orders_track_order',
    ]);
    const getOrder = tools.find((t) => t.name === 'orders_get_order')!;
    expect(getOrder.annotations?.readOnlyHint).toBe(true);
    expect(getOrder.inputSchema.required).toEqual(['id']);
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
    await client.close();
  });
});

describe('tools/call to a REST backend', () => {
  it('translates the call into HTTP and the JSON answer into structured content', async () => {
    const { client } = await connectClient(gw.url);
    const result = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: '1001', item: 'keyboard' });
    expect((result.content as Array<{ text: string }>)[0]!.text).toContain('keyboard');
    const created = await client.callTool({ name: 'orders_create_order', arguments: { item: 'mouse', quantity: 3 } });
    expect(created.structuredContent).toMatchObject({ item: 'mouse', quantity: 3, status: 'open' });
    await client.close();
  });

  it('turns a non-2xx answer into an isError result naming the status', async () => {
    const { client } = await connectClient(gw.url);
    const result = await client.callTool({ name: 'orders_get_order', arguments: { id: '999999' } });
    expect(result.isError).toBe(true);
    const text = (result.content as Array<{ text: string }>)[0]!.text;
    expect(text).toContain('HTTP 404');
    expect(text).toContain('order 999999 not found');
    await client.close();
  });

  it('rejects arguments that violate the input schema without calling the backend', async () => {
    const before = orders.calls.get('GET /orders/:id') ?? 0;
    const { client } = await connectClient(gw.url);
    const result = await client.callTool({ name: 'orders_get_order', arguments: { id: 'abc' } });
    expect(result.isError).toBe(true);
    expect((result.content as Array<{ text: string }>)[0]!.text).toMatch(/arguments\/id must match pattern/);
    expect(orders.calls.get('GET /orders/:id') ?? 0).toBe(before);
    await client.close();
  });

  it('relays each chunk of a streaming answer while the call runs, then the result', async () => {
    const { client } = await connectClient(gw.url);
    const progress: string[] = [];
    const result = await client.callTool({ name: 'orders_track_order', arguments: { id: '1001' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
    });
    expect(progress.map((m) => JSON.parse(m).event)).toEqual(['received', 'packed', 'shipped', 'delivered']);
    expect((result.content as Array<{ text: string }>)[0]!.text.split('\n')).toHaveLength(4);

    const logged: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logged.push(n.params.data));
    await client.callTool({ name: 'orders_track_order', arguments: { id: '1002' } });
    expect(logged).toEqual(['received', 'packed', 'shipped', 'delivered'].map((event) => ({ order: '1002', event })));
    await client.close();
  });
});

describe('tools/call to a native MCP backend', () => {
  it('forwards with the backend tool name and relays progress and logs as they happen', async () => {
    const { client } = await connectClient(gw.url);
    const progress: number[] = [];
    const logs: unknown[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.data));
    const result = await client.callTool({ name: 'notes_count_slowly', arguments: { n: 3 } }, undefined, { onprogress: (p) => progress.push(p.progress) });
    expect(progress).toEqual([1, 2, 3]);
    expect(logs).toEqual(['step 1 of 3', 'step 2 of 3', 'step 3 of 3']);
    expect((result.content as Array<{ text: string }>)[0]!.text).toBe('counted to 3');
    const plain = await client.callTool({ name: 'add_note', arguments: { text: 'via no-prefix backend' } });
    expect((plain.content as Array<{ text: string }>)[0]!.text).toMatch(/^saved note #\d+$/);
    await client.close();
  });

  it('gives each client session its own backend session', async () => {
    const a = await connectClient(gw.url, 'a');
    const b = await connectClient(gw.url, 'b');
    await a.client.callTool({ name: 'notes_list_notes', arguments: {} });
    await b.client.callTool({ name: 'notes_list_notes', arguments: {} });
    await a.client.callTool({ name: 'notes_list_notes', arguments: {} });
    const sa = (await gw.core.sessions.get(a.transport.sessionId!))!.backendSessions.notes!;
    const sb = (await gw.core.sessions.get(b.transport.sessionId!))!.backendSessions.notes!;
    expect(sa.sessionId).toBeTruthy();
    expect(sb.sessionId).toBeTruthy();
    expect(sa.sessionId).not.toBe(sb.sessionId);
    expect(notes.sessions.has(sa.sessionId!)).toBe(true);
    await a.client.close();
    await b.client.close();
  });

  it('passes a client cancellation on to the backend', async () => {
    const { client } = await connectClient(gw.url);
    const abort = new AbortController();
    const before = notes.cancelled.count;
    const call = client.callTool({ name: 'notes_count_slowly', arguments: { n: 20, delayMs: 100 } }, undefined, {
      signal: abort.signal,
      onprogress: () => abort.abort('user pressed stop'),
    });
    await expect(call).rejects.toThrow();
    await waitFor(() => notes.cancelled.count > before, 'the backend to see the cancellation', 5_000);
    const after = await client.callTool({ name: 'notes_list_notes', arguments: {} });
    expect(after.isError).toBeFalsy();
    await client.close();
  });

  it('opens one backend session for concurrent first calls of a client session', async () => {
    const { client } = await connectClient(gw.url);
    const before = notes.initialized.length;
    const results = await Promise.all(Array.from({ length: 5 }, () => client.callTool({ name: 'notes_list_notes', arguments: {} })));
    expect(results.every((r) => !r.isError)).toBe(true);
    expect(notes.initialized.length - before).toBe(1);
    await client.close();
  });

  it('re-initializes a backend session the backend forgot, once, without the client noticing', async () => {
    const { client, transport } = await connectClient(gw.url);
    await client.callTool({ name: 'notes_add_note', arguments: { text: 'first' } });
    const before = (await gw.core.sessions.get(transport.sessionId!))!.backendSessions.notes!.sessionId!;
    await notes.sessions.get(before)!.close(); // the backend drops the session
    const result = await client.callTool({ name: 'notes_add_note', arguments: { text: 'second' } });
    expect(result.isError).toBeFalsy();
    const after = (await gw.core.sessions.get(transport.sessionId!))!.backendSessions.notes!.sessionId!;
    expect(after).not.toBe(before);
    expect(notes.sessions.has(after)).toBe(true);
    await client.close();
  });
});

describe('session lifecycle', () => {
  it('DELETE ends the session and every backend session it holds', async () => {
    const { client, transport } = await connectClient(gw.url);
    await client.callTool({ name: 'notes_list_notes', arguments: {} });
    const sid = transport.sessionId!;
    const backendSid = (await gw.core.sessions.get(sid))!.backendSessions.notes!.sessionId!;
    expect(notes.sessions.has(backendSid)).toBe(true);
    await transport.terminateSession();
    expect(notes.sessions.has(backendSid)).toBe(false);
    const res = await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 9, method: 'tools/list' });
    expect(res.status).toBe(404);
    await client.close();
  });

  it('issues session ids with at least 128 random bits, unique per initialize', async () => {
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++) ids.add((await rawInitialize(gw.url)).sessionId);
    expect(ids.size).toBe(20);
    for (const id of ids) {
      expect(id).toMatch(/^[\x21-\x7e]+$/);
      expect(Buffer.from(id, 'base64url').length).toBeGreaterThanOrEqual(16);
    }
  });

  it('negotiates older protocol revisions and falls back to the latest for unknown ones', async () => {
    for (const v of ['2025-06-18', '2025-03-26', '2025-11-25']) {
      const { body } = await rawInitialize(gw.url, v);
      expect(body.result.protocolVersion).toBe(v);
    }
    const { body } = await rawInitialize(gw.url, '2024-01-01');
    expect(body.result.protocolVersion).toBe('2025-11-25');
  });

  it('answers ping and accepts notifications with 202', async () => {
    const { sessionId } = await rawInitialize(gw.url);
    const note = await rawPost(gw.url, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' });
    expect(note.status).toBe(202);
    const ping = await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 'p', method: 'ping' });
    expect(await jsonOf(ping)).toEqual({ jsonrpc: '2.0', id: 'p', result: {} });
  });

});

describe('catalog changes', () => {
  it('sends notifications/tools/list_changed on the GET stream when a backend publishes a new tool', async () => {
    const dynamic = await startDynamicMcpServer(['alpha']);
    const gw2 = await startGateway({ catalog: { refreshIntervalMs: 100 }, backends: [{ name: 'dyn', kind: 'mcp', urls: [dynamic.url] }] });
    try {
      const { client } = await connectClient(gw2.url);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['dyn_alpha']);
      let notified = 0;
      client.setNotificationHandler(ToolListChangedNotificationSchema, () => void notified++);
      // The SDK client opens its GET stream after initialization; wait until the gateway holds it.
      await waitFor(() => gw2.core.streams.count > 0, 'the client GET stream', 5_000);
      dynamic.toolNames.add('beta');
      await waitFor(() => notified > 0, 'notifications/tools/list_changed', 5_000);
      expect((await client.listTools()).tools.map((t) => t.name)).toEqual(['dyn_alpha', 'dyn_beta']);
      const result = await client.callTool({ name: 'dyn_beta', arguments: {} });
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('beta done');
      await client.close();
    } finally {
      await gw2.stop();
      await dynamic.close();
    }
  });
});
