import { describe, expect, it } from 'vitest';
import { startNotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi } from '../../examples/backends/orders-api.js';
import { connectClient } from '../support/client.js';
import { ORDER_TOOLS, rawInitialize, rawPost, startGateway, jsonOf } from '../support/gateway.js';
import { deadUrl } from '../support/http-backends.js';
import { stopAfterEach } from '../support/cleanup.js';

const cleanup = stopAfterEach();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('session expiry', () => {
  it('expires idle sessions (closing their backend sessions) and keeps used ones alive', async () => {
    const notes = await startNotesServer();
    cleanup(() => notes.close());
    const gw = await startGateway({ sessions: { ttlSeconds: 1 }, backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }] });
    cleanup(() => gw.stop());
    const idle = await rawInitialize(gw.url);
    const busy = await rawInitialize(gw.url);
    const call = await rawPost(gw.url, idle.sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'notes_list_notes', arguments: {} } });
    expect(call.status).toBe(200);
    await call.text();
    const backendSid = (await gw.core.sessions.get(idle.sessionId))!.backendSessions.notes!.sessionId!;
    for (let i = 0; i < 5; i++) {
      await sleep(350);
      const ping = await rawPost(gw.url, busy.sessionId, { jsonrpc: '2.0', id: i, method: 'ping' });
      expect(ping.status).toBe(200);
    }
    const expired = await rawPost(gw.url, idle.sessionId, { jsonrpc: '2.0', id: 2, method: 'ping' });
    expect(expired.status).toBe(404);
    expect(notes.sessions.has(backendSid)).toBe(false);
  });
});

describe('tools/list pagination', () => {
  it('pages with opaque cursors and lists every tool exactly once', async () => {
    const api = await startOrdersApi();
    cleanup(() => api.close());
    const gw = await startGateway({
      catalog: { pageSize: 3 },
      backends: ['a', 'b', 'c'].map((name) => ({ name, kind: 'rest', urls: [api.url], tools: ORDER_TOOLS })),
    });
    cleanup(() => gw.stop());
    const { client } = await connectClient(gw.url);
    const names: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await client.listTools(cursor === undefined ? {} : { cursor });
      expect(page.tools.length).toBeLessThanOrEqual(3);
      names.push(...page.tools.map((t) => t.name));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(4);
    expect(names).toHaveLength(12);
    expect(new Set(names).size).toBe(12);
    expect(names).toEqual([...names].sort());
    await client.close();
  });
});

describe('response format follows Accept', () => {
  it('gives a JSON-only client just the final result of a streaming call', async () => {
    const api = await startOrdersApi();
    cleanup(() => api.close());
    const gw = await startGateway({ backends: [{ name: 'orders', kind: 'rest', urls: [api.url], tools: ORDER_TOOLS }] });
    cleanup(() => gw.stop());
    const { sessionId } = await rawInitialize(gw.url);
    const msg = { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_track_order', arguments: { id: '1', delayMs: 5 } } };
    const json = await rawPost(gw.url, sessionId, msg, { accept: 'application/json' });
    expect(json.headers.get('content-type')).toBe('application/json');
    expect((await jsonOf(json)).result.content[0].text.split('\n')).toHaveLength(4);
    const sse = await rawPost(gw.url, sessionId, msg);
    expect(sse.headers.get('content-type')).toBe('text/event-stream');
    const [priming, ...events] = (await sse.text()).split('\n\n').filter((e) => e.includes('data:'));
    // A 2025-11-25 client first gets a priming event: an id, `retry`, empty data.
    expect(priming).toMatch(/^id: \S+\nretry: \d+\ndata: $/);
    expect(events).toHaveLength(5);
    for (const e of events) expect(e).toMatch(/^id: \S+\nevent: message\ndata: \{/);
  });
});

describe('native MCP backend failover', () => {
  it('opens the backend session on a live instance when another is down', async () => {
    const notes = await startNotesServer();
    cleanup(() => notes.close());
    const gw = await startGateway({ backends: [{ name: 'notes', kind: 'mcp', urls: [await deadUrl(), notes.url] }] });
    cleanup(() => gw.stop());
    for (let i = 0; i < 3; i++) {
      const { client } = await connectClient(gw.url);
      const r = await client.callTool({ name: 'notes_add_note', arguments: { text: `n${i}` } });
      expect(r.isError).toBeFalsy();
      await client.close();
    }
  });

  it('moves a session to another instance when its instance is gone (the call never reached it)', async () => {
    const first = await startNotesServer();
    const second = await startNotesServer();
    cleanup(() => first.close().catch(() => {}));
    cleanup(() => second.close().catch(() => {}));
    const gw = await startGateway({ upstream: { cooldownMs: 60_000 }, backends: [{ name: 'notes', kind: 'mcp', urls: [first.url, second.url] }] });
    cleanup(() => gw.stop());
    const { client, transport } = await connectClient(gw.url);
    await client.callTool({ name: 'notes_add_note', arguments: { text: 'a' } });
    const holder = (await gw.core.sessions.get(transport.sessionId!))!.backendSessions.notes!.instance;
    const other = holder === first.url ? second : first;
    await (holder === first.url ? first : second).close();
    const r = await client.callTool({ name: 'notes_add_note', arguments: { text: 'b' } });
    expect(r.isError).toBeFalsy();
    expect((await gw.core.sessions.get(transport.sessionId!))!.backendSessions.notes!.instance).toBe(other.url);
    await client.close();
  });
});
