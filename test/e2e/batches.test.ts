/**
 * JSON-RPC batches, which only the 2025-03-26 revision has: a session of that version may POST
 * several messages at once, each admitted, authorized and audited on its own; sessions of later
 * versions keep getting -32600.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jsonOf, MCP_HEADERS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { waitFor } from '../support/wait.js';

let asker: AskingServer;
let gw: TestGateway;
let dir: string;
let auditFile: string;

async function initialize(protocolVersion: string, capabilities: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities, clientInfo: { name: 'batcher', version: '1' } } }),
  });
  expect((await jsonOf(res)).result.protocolVersion).toBe(protocolVersion);
  return res.headers.get('mcp-session-id')!;
}

const call = (id: number, name: string, args: Record<string, unknown> = {}) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

beforeAll(async () => {
  asker = await startAskingServer();
  dir = await mkdtemp(join(tmpdir(), 'gw-batch-'));
  auditFile = join(dir, 'audit.jsonl');
  gw = await startGateway({
    backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }],
    policy: { engine: 'rules', rules: [{ tools: ['chatter'], allow: 'nobody' }, { tools: ['*'], allow: 'anyone' }] },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
  });
  await waitFor(() => gw.core.catalog.current().tools.has('echo'), 'discovery', 10_000);
});

afterAll(async () => {
  await gw?.stop();
  await asker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('JSON-RPC batches', () => {
  it('a 2025-03-26 session gets one answer per request, in order, each decided and audited on its own', async () => {
    const sid = await initialize('2025-03-26');
    const res = await rawPost(gw.url, sid, [
      call(1, 'echo', { text: 'one' }),
      call(2, 'chatter'),
      { jsonrpc: '2.0', method: 'notifications/initialized' },
      { jsonrpc: '2.0', id: 3, method: 'tools/list' },
      { jsonrpc: '2.0', id: 4, method: 'initialize', params: {} },
      call(5, 'echo', { text: 'five' }),
    ], { 'mcp-protocol-version': '2025-03-26' });
    expect(res.status).toBe(200);
    const answers = await jsonOf(res);
    expect(answers.map((a: any) => a.id)).toEqual([1, 2, 3, 4, 5]);
    expect(answers[0].result.content[0].text).toBe('one');
    expect(answers[1].error.code).toBe(-32602); // denied, and hidden as unknown (policy.hideUnlisted)
    expect(answers[2].result.tools.map((t: any) => t.name)).toContain('echo');
    expect(answers[3].error.code).toBe(-32600);
    expect(answers[4].result.content[0].text).toBe('five');
    await waitFor(async () => (await readFile(auditFile, 'utf8').catch(() => '')).trim().split('\n').length >= 3, 'the audit events', 5_000);
    const events = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    expect(events.map((e) => [e.event, e.request, e.tool]).sort()).toEqual([
      ['mcp.denial', 2, 'chatter'],
      ['mcp.tool_call', 1, 'echo'],
      ['mcp.tool_call', 5, 'echo'],
    ]);
  });

  it('a backend that asks the client something during a batched call is refused at once', async () => {
    const sid = await initialize('2025-03-26', { sampling: {} });
    const started = Date.now();
    const res = await rawPost(gw.url, sid, [call(1, 'summarize', { topic: 'x' })]);
    const [answer] = await jsonOf(res);
    expect(answer.result.isError).toBe(true);
    expect(answer.result.content[0].text).toMatch(/only the final answer/);
    expect(Date.now() - started).toBeLessThan(5_000);
  });

  it('a batch larger than server.maxBatchSize is refused whole: one request may not fan out without bound', async () => {
    const sid = await initialize('2025-03-26');
    const res = await rawPost(gw.url, sid, Array.from({ length: 33 }, (_, i) => call(i + 1, 'echo', { text: String(i) })), { 'mcp-protocol-version': '2025-03-26' });
    expect(res.status).toBe(400);
    expect((await jsonOf(res)).error).toMatchObject({ code: -32600, message: expect.stringContaining('a batch of 33 messages; the limit is 32') });
    const ok = await rawPost(gw.url, sid, Array.from({ length: 32 }, (_, i) => call(i + 1, 'echo', { text: String(i) })), { 'mcp-protocol-version': '2025-03-26' });
    expect((await jsonOf(ok)).length).toBe(32);
  });

  it('a batch of notifications only is accepted with 202', async () => {
    const sid = await initialize('2025-03-26');
    const res = await rawPost(gw.url, sid, [{ jsonrpc: '2.0', method: 'notifications/initialized' }]);
    expect(res.status).toBe(202);
  });

  it('sessions of later versions keep getting -32600', async () => {
    for (const version of ['2025-06-18', '2025-11-25']) {
      const sid = await initialize(version);
      const res = await rawPost(gw.url, sid, [{ jsonrpc: '2.0', id: 1, method: 'tools/list' }]);
      expect(res.status).toBe(400);
      expect((await jsonOf(res)).error.code).toBe(-32600);
    }
  });
});
