/**
 * A raw Streamable HTTP client session, opened the same way for the gateway and for the direct
 * SDK backend, so both sides of a comparison carry identical headers and handshake state.
 */
import type { Pool } from 'undici';

const PROTOCOL_VERSION = '2025-11-25';

/** Headers every in-session POST carries. */
export type SessionHeaders = Record<string, string>;

/**
 * `initialize` (declaring `capabilities`) + `notifications/initialized`; returns the headers for
 * later requests. `extra` headers (a bearer token) go on every one of them.
 */
export async function openSession(pool: Pool, path: string, capabilities: Record<string, unknown> = {}, extra: SessionHeaders = {}): Promise<SessionHeaders> {
  const headers: SessionHeaders = { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...extra };
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: { protocolVersion: PROTOCOL_VERSION, capabilities, clientInfo: { name: 'mcp-gateway-bench', version: '1' } },
  };
  const res = await pool.request({ path, method: 'POST', headers, body: JSON.stringify(init) });
  const text = await res.body.text();
  const sid = res.headers['mcp-session-id'];
  if (res.statusCode !== 200 || typeof sid !== 'string') throw new Error(`initialize at ${path} failed: HTTP ${res.statusCode} ${text.slice(0, 200)}`);
  const session = { ...headers, 'mcp-session-id': sid, 'mcp-protocol-version': PROTOCOL_VERSION };
  const ack = await pool.request({ path, method: 'POST', headers: session, body: JSON.stringify({ jsonrpc: '2.0', method: 'notifications/initialized' }) });
  await ack.body.dump();
  if (ack.statusCode !== 202) throw new Error(`notifications/initialized at ${path} answered HTTP ${ack.statusCode}`);
  return session;
}

/** The first JSON-RPC message of a reply body, JSON or SSE (`data:` lines), for one-off checks. */
export function firstMessage(text: string): Record<string, unknown> {
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{')) return JSON.parse(trimmed) as Record<string, unknown>;
  const data = trimmed
    .split('\n')
    .filter((l) => l.startsWith('data:'))
    .map((l) => l.slice(5).trim())
    .join('\n');
  return JSON.parse(data) as Record<string, unknown>;
}
