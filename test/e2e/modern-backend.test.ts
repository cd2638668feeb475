/**
 * Session-era clients (the official SDK 1.x client) through the standalone gateway to a backend
 * that speaks ONLY MCP 2026-07-28 (a real `@modelcontextprotocol/server` 2.4 server), next to a
 * session-era SDK 1.x backend in the same catalog. The gateway probes `server/discover`, records
 * each backend's era, sends stateless requests (`_meta`, `Mcp-*` headers) to the modern one, and
 * turns its `input_required` results into real requests to the client, so the client sees
 * ordinary calls.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ResourceUpdatedNotificationSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { answeringClient, plainClient } from '../support/client.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { waitFor } from '../support/wait.js';

const FULL = { sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } };
const asked: string[] = [];

/** A client that answers whatever it is asked; `silent` leaves elicitations unanswered. */
function capableClient(url: string, opts: { silent?: boolean } = {}): Promise<Client> {
  return answeringClient(url, FULL, asked, (params) => {
    asked.push(`elicitation/create:${params.message}`);
    if (opts.silent) return new Promise(() => {});
    const content: Record<string, string | boolean> = params.message.startsWith('Sign up') ? { ok: true } : { name: 'Ada' };
    return { action: 'accept', content };
  });
}


const textOf = (r: any): string => r.content?.[0]?.text;

let modern: ModernServer;
let legacy: AskingServer;
let gw: TestGateway;

beforeAll(async () => {
  [modern, legacy] = await Promise.all([startModernServer(), startAskingServer('legacy')]);
  gw = await startGateway({
    // A discovery that misses its budget on a loaded machine (hasty's is short) is tried again soon.
    catalog: { refreshIntervalMs: 1_000 },
    backends: [
      { name: 'modern', kind: 'mcp', urls: [modern.url], prefix: 'm' },
      { name: 'legacy', kind: 'mcp', urls: [legacy.url], prefix: 'l' },
      // The same modern server with a short budget: an unanswered input request ends the call.
      { name: 'hasty', kind: 'mcp', urls: [modern.url], prefix: 'h', timeoutMs: 1_500 },
    ],
  });
  await waitFor(() => gw.core.catalog.eras().size === 3, 'every backend discovered', 30_000);
});

afterAll(async () => {
  await gw?.stop();
  await Promise.all([modern?.close(), legacy?.close()]);
});

describe('discovery', () => {
  it('records each backend era: server/discover for the modern one, initialize after a failed probe for the SDK 1.x one', async () => {
    expect(Object.fromEntries(gw.core.catalog.eras())).toEqual({ modern: 'stateless', legacy: 'session', hasty: 'stateless' });
    expect(legacy.declared.length).toBeGreaterThan(0); // the legacy backend was initialized
    const health: any = await fetch(`${gw.adminUrl}/healthz`).then((r) => r.json());
    expect(health.catalog.eras).toEqual({ modern: 'stateless', legacy: 'session', hasty: 'stateless' });
  });

  it('a session-era client lists and calls tools of both eras in one catalog', async () => {
    const client = await plainClient(gw.url);
    try {
      const names = (await client.listTools()).tools.map((t) => t.name);
      expect(names).toEqual(expect.arrayContaining(['m_echo', 'm_weather', 'm_ask_name', 'l_echo', 'l_chatter']));
      expect(textOf(await client.callTool({ name: 'm_echo', arguments: { text: 'hi' } }))).toBe('modern: hi');
      expect(textOf(await client.callTool({ name: 'l_echo', arguments: { text: 'hi' } }))).toBe('hi');
      expect((await client.listResources()).resources.map((r) => r.name)).toContain('today');
      const read = await client.readResource({ uri: (await client.listResources()).resources.find((r) => r.name === 'today')!.uri });
      expect((read.contents[0] as { text: string }).text).toBe('modern notes');
      const prompt = await client.getPrompt({ name: 'm_greet', arguments: { who: 'Ada' } });
      expect((prompt.messages[0]!.content as { text: string }).text).toBe('Greet Ada');
    } finally {
      await client.close();
    }
  });
});

describe('list changes', () => {
  it("a modern backend's tools/list_changed on its subscriptions/listen stream refreshes the catalog and reaches the client's GET stream", async () => {
    const client = await plainClient(gw.url);
    let announced = 0;
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => void announced++);
    try {
      await client.listTools(); // the SDK client opens its GET stream once the session is up
      await waitFor(() => modern.received.filter((r) => r.body.method === 'subscriptions/listen').length >= 2, 'the gateway listening to both modern backends');
      modern.addTool('fresh');
      await waitFor(() => gw.core.catalog.current().tools.has('m_fresh'), 'the new tool in the catalog');
      await waitFor(() => announced > 0, 'tools/list_changed on the client GET stream');
      expect(textOf(await client.callTool({ name: 'm_fresh', arguments: {} }))).toBe('modern: fresh');
    } finally {
      await client.close();
    }
  });
});

describe('stateless requests', () => {
  it('carry _meta and the Mcp-* headers, and the backend never gets a session, initialize, ping or setLevel', async () => {
    const client = await plainClient(gw.url);
    try {
      await client.setLoggingLevel('warning');
      await client.ping();
      const from = modern.received.length;
      expect(textOf(await client.callTool({ name: 'm_weather', arguments: { region: 'Zürich', days: 2 } }))).toBe('sunny in Zürich');
      const call = modern.received.slice(from).find((r) => r.body.method === 'tools/call')!;
      expect(call.headers['mcp-protocol-version']).toBe('2026-07-28');
      expect(call.headers['mcp-method']).toBe('tools/call');
      expect(call.headers['mcp-name']).toBe('weather');
      expect(call.headers['mcp-param-region']).toBe(`=?base64?${Buffer.from('Zürich').toString('base64')}?=`);
      expect(call.headers['mcp-session-id']).toBeUndefined();
      expect(call.body.params._meta).toMatchObject({
        'io.modelcontextprotocol/protocolVersion': '2026-07-28',
        'io.modelcontextprotocol/clientInfo': { name: 'mcp-gateway' },
        'io.modelcontextprotocol/clientCapabilities': {},
        'io.modelcontextprotocol/logLevel': 'warning',
      });
      const methods = new Set(modern.received.map((r) => r.body.method));
      for (const m of ['initialize', 'notifications/initialized', 'ping', 'logging/setLevel']) expect(methods.has(m)).toBe(false);
    } finally {
      await client.close();
    }
  });

  it('a client closing its call closes the upstream request, which the backend takes as cancellation', async () => {
    const client = await plainClient(gw.url);
    try {
      const abort = new AbortController();
      const call = client.callTool({ name: 'm_wait', arguments: {} }, undefined, { signal: abort.signal }).catch((e: Error) => e);
      const from = modern.received.length;
      await waitFor(() => modern.received.slice(from).some((r) => r.body.params?.name === 'wait'), 'the call reached the backend');
      abort.abort('changed my mind');
      expect(await call).toBeInstanceOf(Error);
      await waitFor(() => modern.cancelled.length > 0, 'the backend saw its request closed');
    } finally {
      await client.close();
    }
  });

  it("a resource subscription becomes a subscriptions/listen stream whose updates reach the client's GET stream", async () => {
    const client = await plainClient(gw.url);
    const updated: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updated.push(n.params.uri));
    try {
      const uri = (await client.listResources()).resources.find((r) => r.name === 'today')!.uri;
      await client.subscribeResource({ uri });
      const listens = () => modern.received.filter((r) => r.body.params?.notifications?.resourceSubscriptions?.includes('notes://today'));
      await waitFor(() => listens().length > 0, 'the gateway listening for the resource');
      expect(listens()[0]!.headers['mcp-method']).toBe('subscriptions/listen');
      // The backend acknowledges the stream before it delivers anything: announce until the update arrives.
      await waitFor(() => {
        modern.updated('notes://today');
        return updated.length > 0;
      }, 'the update on the client GET stream');
      expect(updated[0]).toBe(uri);
      await client.unsubscribeResource({ uri });
    } finally {
      await client.close();
    }
  });
});

describe('input_required bridged to real requests', () => {
  it('elicitation, sampling and roots each make a round trip within one ordinary call', async () => {
    const client = await capableClient(gw.url);
    try {
      asked.length = 0;
      expect(textOf(await client.callTool({ name: 'm_ask_name', arguments: {} }))).toBe('hello Ada');
      expect(textOf(await client.callTool({ name: 'm_summarize', arguments: { topic: 'MCP' } }))).toBe('modern got: short: Summarize MCP (test-model)');
      expect(textOf(await client.callTool({ name: 'm_list_roots', arguments: {} }))).toBe('file:///work/project');
      expect(asked).toEqual(['elicitation/create:Your name?', 'sampling/createMessage', 'roots/list']);
      // Each retry carried the client's answer back, and the gateway's relay capabilities went in _meta.
      const retry = modern.received.filter((r) => r.body.params?.name === 'ask_name').at(-1)!;
      expect(retry.body.params.inputResponses).toEqual({ name: { action: 'accept', content: { name: 'Ada' } } });
      expect(retry.body.params._meta['io.modelcontextprotocol/clientCapabilities']).toEqual(FULL);
    } finally {
      await client.close();
    }
  });

  it('several rounds, with the backend requestState echoed, are still one call', async () => {
    const client = await capableClient(gw.url);
    try {
      asked.length = 0;
      expect(textOf(await client.callTool({ name: 'm_sign_up', arguments: {} }))).toBe('signed up Ada');
      expect(asked).toEqual(['elicitation/create:Your name?', 'elicitation/create:Sign up Ada?']);
      const last = modern.received.filter((r) => r.body.params?.name === 'sign_up').at(-1)!;
      expect(last.body.params.requestState).toBe('name=Ada');
    } finally {
      await client.close();
    }
  });

  it('a client that did not declare the capability is never asked: the backend, told so in _meta, refuses the call', async () => {
    const got: string[] = [];
    const client = await plainClient(gw.url, got);
    try {
      const err = await client.callTool({ name: 'm_ask_name', arguments: {} }).catch((e: Error) => e);
      expect(String(err)).toMatch(/-32021/);
      expect(got).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('a client cancelling its call while it is being asked ends the call and the pending request cleanly', async () => {
    const client = await capableClient(gw.url, { silent: true });
    try {
      asked.length = 0;
      const abort = new AbortController();
      const call = client.callTool({ name: 'm_ask_name', arguments: {} }, undefined, { signal: abort.signal }).catch((e: Error) => e);
      await waitFor(() => asked.length > 0, 'the client asked');
      abort.abort('not now');
      expect(await call).toBeInstanceOf(Error);
      // The session and the bridge are fine: the next call on the same session completes.
      expect(textOf(await client.callTool({ name: 'm_echo', arguments: { text: 'still here' } }))).toBe('modern: still here');
    } finally {
      await client.close();
    }
  });

  it('an answer that never comes ends the call with the relay timeout', async () => {
    const client = await capableClient(gw.url, { silent: true });
    try {
      const r = await client.callTool({ name: 'h_ask_name', arguments: {} });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/did not answer in time|did not answer/);
    } finally {
      await client.close();
    }
  });
});
