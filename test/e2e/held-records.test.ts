/**
 * Gateway-held records (src/session/held.ts) under callers that share them: the stateless clients
 * of one caller (agents that all number their requests from 1), and clients that send capability
 * objects full of keys nobody reads. The backend is a real SDK 1.x server, reached through the
 * held record's backend session; the client is raw 2026-07-28 requests.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { MCP_HEADERS, startGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const V = '2026-07-28';
const META = (caps: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': caps,
  'io.modelcontextprotocol/clientInfo': { name: 'agent', version: '1' },
});

/** Calls of `hold` the backend has started (each runs until it is cancelled). */
let started = 0;

function holder(): McpServer {
  const mcp = new McpServer({ name: 'holder', version: '1.0.0' });
  mcp.registerTool('hold', { description: 'Runs until cancelled.' }, async (extra) => {
    started++;
    await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
    return { content: [{ type: 'text', text: 'released' }] };
  });
  mcp.registerTool('ping', { description: 'Answers pong.' }, async () => ({ content: [{ type: 'text', text: 'pong' }] }));
  return mcp;
}

let backend: McpHttpServer;
let dir: string;

beforeAll(async () => {
  backend = await serveMcp(holder);
  dir = await mkdtemp(join(tmpdir(), 'gw-held-'));
});

afterAll(async () => {
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** POST one raw stateless request; its answer (or the failure) once it ends. */
function post(url: string, method: string, params: Record<string, unknown>, id: number | string = 1, caps: Record<string, unknown> = {}, signal?: AbortSignal): Promise<any> {
  const headers: Record<string, string> = { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': method };
  if (typeof params.name === 'string') headers['mcp-name'] = params.name;
  return fetch(url, { method: 'POST', headers, body: JSON.stringify({ jsonrpc: '2.0', id, method, params: { ...params, _meta: META(caps) } }), ...(signal ? { signal } : {}) }).then(async (res) => {
    const text = await res.text();
    return text.startsWith('{') ? JSON.parse(text) : JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6));
  });
}

describe('a caller whose declared capabilities vary only in keys nobody reads', () => {
  it('is held in one record, not one per request', async () => {
    const gw = await startGateway({ backends: [{ name: 'holder', kind: 'mcp', urls: [backend.url], prefix: '' }] });
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('ping'), 'the holder tools discovered');
      const before = await gw.core.sessions.size();
      for (let i = 0; i < 50; i++) {
        const r = await post(gw.url, 'tools/list', {}, i, { sampling: { junk: i }, elicitation: { form: {}, junk: i } });
        expect(r.result.tools.map((t: { name: string }) => t.name)).toContain('ping');
      }
      expect(await gw.core.sessions.size()).toBe(before + 1);
      // The record's backend session still tells the backend what the client can take.
      const answer = await post(gw.url, 'tools/call', { name: 'ping', arguments: {} }, 99, { sampling: { junk: 'x' } });
      expect(answer.result.content[0].text).toBe('pong');
      expect(await gw.core.sessions.size()).toBe(before + 2);
    } finally {
      await gw.stop();
    }
  });
});

describe('two stateless clients of one caller that use the same request id', () => {
  it('are both cut, and both audited as cut, when the gateway stops after its grace period', async () => {
    const auditFile = join(dir, 'cut.jsonl');
    const gw = await startGateway({ backends: [{ name: 'holder', kind: 'mcp', urls: [backend.url], prefix: '' }], audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 } });
    const client = new AbortController();
    try {
      await waitFor(() => gw.core.catalog.current().tools.has('hold'), 'the holder tools discovered');
      const before = started;
      const answers = [1, 2].map(() => post(gw.url, 'tools/call', { name: 'hold', arguments: {} }, 1, {}, client.signal).catch((err: Error) => ({ failed: err.message })));
      await waitFor(() => started === before + 2, 'both calls reached the backend');
      await gw.stop(100);
      const events = (await readFile(auditFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === 'mcp.tool_call').map((e) => [e.tool, e.outcome])).toEqual([
        ['hold', 'cut'],
        ['hold', 'cut'],
      ]);
      client.abort();
      await Promise.all(answers);
    } finally {
      client.abort();
      await gw.stop().catch(() => undefined);
    }
  });
});
