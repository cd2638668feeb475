import { expect } from 'vitest';
import { MCP_HEADERS, jsonOf, rawPost } from './gateway.js';
import { messagesOf, sseGet, type SseReader } from './sse.js';

/** A session-era client session created on `url`, declaring `capabilities`. */
export async function session(url: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const init = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities, clientInfo: { name: 'raw', version: '1' } } }),
  });
  await init.text();
  return init.headers.get('mcp-session-id')!;
}

/** A GET stream of the session on `url`, past its priming event; `cleanup` closes it after the test. */
export async function getStream(url: string, sid: string, cleanup: (stop: () => void) => void): Promise<SseReader> {
  const get = await sseGet(url, sid);
  expect(get.status).toBe(200);
  expect((await get.next())!.data).toBe('');
  cleanup(() => get.close());
  return get;
}

/** JSON-RPC messages arriving on a stream, collected in the background. */
export function collect(get: SseReader): any[] {
  const seen: any[] = [];
  void (async () => {
    for (let e = await get.next(); e; e = await get.next()) seen.push(...messagesOf([e]));
  })().catch(() => undefined);
  return seen;
}

/** One request in the session, its JSON-RPC answer. */
export async function request(url: string, sid: string, id: number, method: string, params: Record<string, unknown>): Promise<any> {
  const res = await rawPost(url, sid, { jsonrpc: '2.0', id, method, params });
  return jsonOf(res);
}

/** How many `notifications/resources/updated` of `uri` are among `seen`. */
export const updatesOf = (seen: any[], uri: string): number => seen.filter((m) => m.method === 'notifications/resources/updated' && m.params?.uri === uri).length;
