/**
 * The request pairs being compared. Each target is one closure that sends a request and reads
 * the whole body (time to last byte is what a client waits for), plus a one-off deep check that
 * the answer is the real thing and not a fast error.
 */
import type { Pool } from 'undici';
import { DOC, PROMPT } from './docs-fixture.js';
import { firstMessage, type SessionHeaders } from './mcp-session.js';

export interface Target {
  readonly label: string;
  /** Send one request; resolves with whether the answer looked right (cheap check) and its size. */
  send(): Promise<{ ok: boolean; bytes: number }>;
  /** Send one request and throw unless the answer is exactly what the scenario expects. */
  verify(): Promise<{ note: string; bytes: number }>;
}

let nextId = 1;

/** One request in an open session; ids are unique so concurrent calls never collide. */
function rpc(pool: Pool, path: string, headers: SessionHeaders, method: string, params: Record<string, unknown>) {
  return async (): Promise<{ status: number; text: string }> => {
    const body = `{"jsonrpc":"2.0","id":${nextId++},"method":"${method}","params":${JSON.stringify(params)}}`;
    const res = await pool.request({ path, method: 'POST', headers, body });
    return { status: res.statusCode, text: await res.body.text() };
  };
}

function target(label: string, call: () => Promise<{ status: number; text: string }>, cheap: (text: string) => boolean, deep: (text: string) => string): Target {
  return {
    label,
    async send() {
      const { status, text } = await call();
      return { ok: status === 200 && cheap(text), bytes: text.length };
    },
    async verify() {
      const { status, text } = await call();
      if (status !== 200) throw new Error(`${label}: HTTP ${status}: ${text.slice(0, 300)}`);
      return { note: deep(text), bytes: Buffer.byteLength(text) };
    },
  };
}

function check(label: string, cond: boolean, text: string): void {
  if (!cond) throw new Error(`${label}: unexpected answer: ${text.slice(0, 300)}`);
}

/** GET /orders/1001 straight to the orders API: the no-proxy baseline for the REST tool. */
export function restDirect(pool: Pool): Target {
  return restGet('REST direct GET /orders/1001', pool);
}

/** GET /orders/1001 of the orders API through whatever answers at `pool` (the API itself, a plain Envoy in front of it). */
export function restGet(label: string, pool: Pool): Target {
  const call = async () => {
    const res = await pool.request({ path: '/orders/1001', method: 'GET', headers: { accept: 'application/json' } });
    return { status: res.statusCode, text: await res.body.text() };
  };
  return target(label, call, (t) => t.includes('"keyboard"'), (t) => {
    check(label, (JSON.parse(t) as { id?: string }).id === '1001', t);
    return 'order 1001';
  });
}

/** The same order through the gateway's `orders_get_order` REST tool (the standalone gateway, or the Envoy topology's broker). */
export function restGateway(pool: Pool, path: string, session: SessionHeaders, label = 'REST via gateway tools/call orders_get_order'): Target {
  const call = rpc(pool, path, session, 'tools/call', { name: 'orders_get_order', arguments: { id: '1001' } });
  return target(label, call, (t) => t.includes('keyboard') && !t.includes('"isError":true'), (t) => {
    const m = firstMessage(t) as { result?: { isError?: boolean; content?: unknown[] } };
    check(label, m.result !== undefined && m.result.isError !== true && JSON.stringify(m.result).includes('keyboard'), t);
    return 'tool result with order 1001';
  });
}

/** `tools/call echo` on a session opened directly with the SDK server (SSE reply, SDK default). */
export function mcpDirect(pool: Pool, path: string, session: SessionHeaders): Target {
  return mcpCall('MCP direct tools/call echo', pool, path, session, 'echo');
}

/** The same call through the gateway, which relays it in its own backend session. */
export function mcpGateway(pool: Pool, path: string, session: SessionHeaders): Target {
  return mcpCall('MCP via gateway tools/call echo_echo', pool, path, session, 'echo_echo');
}

/** `tools/call <name>` with the echo argument, through whatever answers at `pool` (a direct backend, plain Envoy, the Envoy topology). */
export function mcpCall(label: string, pool: Pool, path: string, session: SessionHeaders, name: string): Target {
  const call = rpc(pool, path, session, 'tools/call', { name, arguments: { text: 'bench-ping' } });
  return target(label, call, (t) => t.includes('bench-ping') && !t.includes('"isError":true'), (t) => {
    const m = firstMessage(t) as { result?: { isError?: boolean; content?: Array<{ text?: string }> } };
    check(label, m.result?.isError !== true && m.result?.content?.[0]?.text === 'bench-ping', t);
    return 'echo result';
  });
}

/** What each listing's entries are keyed by: a page must hold that many distinct keys. */
const LIST_KEY = { tools: 'name', resources: 'uri' } as const;

/** The first `tools/list` or `resources/list` page; `expect` is the entry count that page must hold, each with its own name or URI. */
export function listPage(label: string, pool: Pool, path: string, session: SessionHeaders, list: keyof typeof LIST_KEY, expect: number, more: boolean): Target {
  const call = rpc(pool, path, session, `${list}/list`, {});
  return target(label, call, (t) => t.includes(`"${list}"`), (t) => {
    const m = firstMessage(t) as { result?: Record<string, unknown> & { nextCursor?: string } };
    const entries = m.result?.[list];
    const keys = Array.isArray(entries) ? new Set(entries.map((e: Record<string, unknown>) => e[LIST_KEY[list]]).filter((k) => typeof k === 'string')) : new Set();
    check(label, keys.size === expect && (m.result?.nextCursor !== undefined) === more, t);
    return `${expect} ${list}${more ? ' + nextCursor' : ''}, ${(t.length / 1024).toFixed(0)} KiB`;
  });
}

/** `resources/read <uri>`: the docs backend's page, whose content must come back whole under the URI asked for. */
export function readResource(label: string, pool: Pool, path: string, session: SessionHeaders, uri: string): Target {
  const call = rpc(pool, path, session, 'resources/read', { uri });
  return target(label, call, (t) => t.includes('bench-resource guide') && !t.includes('"error"'), (t) => {
    const m = firstMessage(t) as { result?: { contents?: Array<{ uri?: string; text?: string; mimeType?: string }> } };
    const c = m.result?.contents;
    check(label, c?.length === 1 && c[0]!.uri === uri && c[0]!.text === DOC.text && c[0]!.mimeType === DOC.mimeType, t);
    return `${DOC.text.length}-character ${DOC.mimeType} content of ${uri}`;
  });
}

/** `prompts/get <name>` with the bench's argument: the rendered message must carry it. */
export function getPrompt(label: string, pool: Pool, path: string, session: SessionHeaders, name: string): Target {
  const expected = PROMPT.render(PROMPT.topic);
  const call = rpc(pool, path, session, 'prompts/get', { name, arguments: { topic: PROMPT.topic } });
  return target(label, call, (t) => t.includes(expected) && !t.includes('"error"'), (t) => {
    const m = firstMessage(t) as { result?: { messages?: Array<{ role?: string; content?: { type?: string; text?: string } }> } };
    const msgs = m.result?.messages;
    check(label, msgs?.length === 1 && msgs[0]!.role === 'user' && msgs[0]!.content?.type === 'text' && msgs[0]!.content.text === expected, t);
    return 'rendered prompt message';
  });
}

/** A static body of the same size as a listing page, from a plain node:http server: the payload floor. */
export function payloadFloor(pool: Pool, bytes: number): Target {
  const label = `static ${bytes}-byte JSON body (payload floor, no gateway)`;
  const call = async () => {
    const res = await pool.request({ path: `/blob?bytes=${bytes}`, method: 'GET' });
    return { status: res.statusCode, text: await res.body.text() };
  };
  return target(label, call, (t) => t.length === bytes, (t) => {
    check(label, t.length === bytes, t.slice(0, 100));
    return `${bytes} bytes`;
  });
}

/** A streamed REST call (`orders_track_order`, four NDJSON lines): an SSE answer of four notifications and the result. */
export function restStream(pool: Pool, path: string, session: SessionHeaders): Target {
  const label = 'REST stream via gateway tools/call orders_track_order';
  const call = rpc(pool, path, session, 'tools/call', { name: 'orders_track_order', arguments: { id: '1001', delayMs: 0 } });
  const whole = (t: string): boolean => t.includes('"delivered"') && t.includes('"result"') && !t.includes('"isError":true');
  return target(label, call, whole, (t) => {
    const events = t.split('\n\n').filter((e) => e.includes('data: {'));
    check(label, whole(t) && events.length === 5, t);
    return `${events.length} SSE messages`;
  });
}

/** The `_meta` a 2026-07-28 client puts in every request: its revision, capabilities (none) and name. */
const STATELESS_META = {
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': {},
  'io.modelcontextprotocol/clientInfo': { name: 'bench', version: '1' },
};

/**
 * `tools/call <name>` as a 2026-07-28 client sends it: no session, `_meta` in the body, the
 * method and tool name mirrored into `Mcp-Method` / `Mcp-Name`. The answer must be a complete
 * stateless result (`resultType`) echoing the argument.
 */
export function statelessCall(label: string, pool: Pool, path: string, name: string): Target {
  const headers = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': name };
  const params = JSON.stringify({ name, arguments: { text: 'bench-ping' }, _meta: STATELESS_META });
  const call = async (): Promise<{ status: number; text: string }> => {
    const res = await pool.request({ path, method: 'POST', headers, body: `{"jsonrpc":"2.0","id":${nextId++},"method":"tools/call","params":${params}}` });
    return { status: res.statusCode, text: await res.body.text() };
  };
  return target(label, call, (t) => t.includes('bench-ping') && t.includes('"resultType":"complete"') && !t.includes('"isError":true'), (t) => {
    const m = firstMessage(t) as { result?: { isError?: boolean; resultType?: string; content?: Array<{ text?: string }> } };
    check(label, m.result?.resultType === 'complete' && m.result.isError !== true && m.result.content?.[0]?.text === 'bench-ping', t);
    return 'complete echo result';
  });
}
