/**
 * A stateless (2026-07-28) client and a stateless-era backend through the gateway: the request is
 * passed through (no double conversion), so the backend's `input_required` keeps its own keys,
 * the client's `inputResponses` reach the backend as given, and the backend's `requestState`
 * travels sealed inside the gateway's. The backend is a real `@modelcontextprotocol/server` 2.4
 * server serving only 2026-07-28; the client is the official 2.4 client pinned to 2026-07-28, or
 * raw requests where the SDK would never send what is checked.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { modernClient } from '../support/stateless-client.js';
import { waitFor } from '../support/wait.js';

const V = '2026-07-28';
const META = (caps: Record<string, unknown> = { elicitation: { form: {} } }, subject = 'raw') => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': caps,
  'io.modelcontextprotocol/clientInfo': { name: subject, version: '1' },
});

let modern: ModernServer;
let gw: TestGateway;
let dir: string;
let auditFile: string;

/** One raw stateless tools/call: its HTTP status and JSON-RPC answer. */
async function call(url: string, name: string, params: Record<string, unknown> = {}, meta = META()): Promise<{ status: number; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': name },
    body: JSON.stringify({ jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name, arguments: {}, _meta: meta, ...params } }),
  });
  return { status: res.status, body: await res.json() };
}

const toolCalls = (name: string) => modern.received.filter((r) => r.body.method === 'tools/call' && r.body.params?.name === name);

beforeAll(async () => {
  modern = await startModernServer();
  dir = await mkdtemp(join(tmpdir(), 'gw-pass-'));
  auditFile = join(dir, 'audit.jsonl');
  gw = await startGateway({
    backends: [{ name: 'modern', kind: 'mcp', urls: [modern.url], prefix: '' }],
    policy: { engine: 'rules', rules: [{ relays: ['sampling/*'], allow: 'nobody' }, { tools: ['list_roots'], allow: 'anyone', confirm: true }, { tools: ['*'], allow: 'anyone' }] },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
  });
  await waitFor(() => gw.core.catalog.current().tools.has('sign_up'), 'the modern tools discovered', 10_000);
});

afterAll(async () => {
  await gw?.stop();
  await modern?.close();
  await rm(dir, { recursive: true, force: true });
});

describe('a stateless client calling a stateless backend', () => {
  it("gets the backend's input requests under the backend's own keys, and the official client completes the round trip", async () => {
    const first = await call(gw.url, 'ask_name');
    expect(first.status).toBe(200);
    expect(Object.keys(first.body.result.inputRequests)).toEqual(['name']);
    expect(first.body.result.inputRequests.name.method).toBe('elicitation/create');
    const asked: string[] = [];
    const client = await modernClient(gw.url, { mode: 'pin', capabilities: { elicitation: { form: {} } }, asked });
    try {
      const result = await client.callTool({ name: 'ask_name', arguments: {} });
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('hello Ada');
      expect(asked).toEqual(['elicitation/create']);
    } finally {
      await client.close();
    }
  });

  it("seals the backend's requestState inside the gateway's and hands it back to the backend on the retry", async () => {
    const name = { action: 'accept', content: { name: 'Lin' } };
    const second = await call(gw.url, 'sign_up', { inputResponses: { name } });
    const state = second.body.result.requestState as string;
    expect(second.body.result.resultType).toBe('input_required');
    expect(Object.keys(second.body.result.inputRequests)).toEqual(['confirm']);
    // The backend's own state ("name=Lin") is not readable in what the client holds.
    expect(Buffer.from(state, 'base64url').toString('latin1')).not.toContain('Lin');
    const third = await call(gw.url, 'sign_up', { requestState: state, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } });
    expect(third.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'signed up Lin' }] });
    expect(toolCalls('sign_up').at(-1)!.body.params.requestState).toBe('name=Lin');
  });

  it('passes inputResponses on as given, so the backend ignores keys it does not know', async () => {
    const r = await call(gw.url, 'ask_name', { inputResponses: { name: { action: 'accept', content: { name: 'Kim' } }, unexpected: { action: 'accept', content: { x: 1 } } } });
    expect(r.body.result).toMatchObject({ resultType: 'complete', content: [{ text: 'hello Kim' }] });
    expect(Object.keys(toolCalls('ask_name').at(-1)!.body.params.inputResponses)).toEqual(['name', 'unexpected']);
  });

  it("keeps the user's confirmation to itself: the confirmed call reaches the backend without the gateway's inputResponses", async () => {
    const caps = META({ elicitation: { form: {} }, roots: {} });
    const asked = await call(gw.url, 'list_roots', {}, caps);
    expect(asked.body.result.resultType).toBe('input_required');
    const [key] = Object.keys(asked.body.result.inputRequests);
    const before = toolCalls('list_roots').length;
    const confirmed = await call(gw.url, 'list_roots', { requestState: asked.body.result.requestState, inputResponses: { [key!]: { action: 'accept', content: { confirm: true } } } }, caps);
    // The backend asks for the roots itself: its own question, with nothing answered for it yet.
    expect(confirmed.body.result.resultType).toBe('input_required');
    expect(Object.keys(confirmed.body.result.inputRequests)).toEqual(['roots']);
    const sent = toolCalls('list_roots').slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.body.params.inputResponses).toBeUndefined();
    expect(sent[0]!.body.params.requestState).toBeUndefined();
  });

  it("refuses an altered state, or another caller's, before anything reaches the backend", async () => {
    const second = await call(gw.url, 'sign_up', { inputResponses: { name: { action: 'accept', content: { name: 'Lin' } } } });
    const state = second.body.result.requestState as string;
    const raw = Buffer.from(state, 'base64url');
    raw[raw.length - 1]! ^= 1;
    const before = toolCalls('sign_up').length;
    const altered = await call(gw.url, 'sign_up', { requestState: raw.toString('base64url'), inputResponses: {} });
    expect(altered.body.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
    // Another tool's retry with this state: bound to the request it was given for.
    const elsewhere = await call(gw.url, 'ask_name', { requestState: state, inputResponses: {} });
    expect(elsewhere.body.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
    expect(toolCalls('sign_up').length).toBe(before);
  });

  it("passes the backend's -32021 for an undeclared capability with HTTP 400", async () => {
    const r = await call(gw.url, 'ask_name', {}, META({}));
    expect(r.status).toBe(400);
    expect(r.body).toMatchObject({ id: 9, error: { code: -32021 } });
  });

  it('checks each input request against policy (kind relay) and audits it', async () => {
    const denied = await call(gw.url, 'summarize', { arguments: { topic: 'rain' } }, META({ sampling: {} }));
    expect(denied.body.result).toMatchObject({ resultType: 'complete', isError: true });
    expect(denied.body.result.content[0].text).toMatch(/Denied by policy/);
    const lines = async () => (await readFile(auditFile, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean).map((l) => JSON.parse(l));
    await waitFor(async () => (await lines()).filter((e) => e.event === 'mcp.relay').length >= 2, 'the input requests audited');
    const relays = (await lines()).filter((e) => e.event === 'mcp.relay').map((e) => [e.method, e.outcome, e.tool, e.client.era]);
    expect(relays).toContainEqual(['elicitation/create', 'passed', 'ask_name', 'stateless']);
    expect(relays).toContainEqual(['sampling/createMessage', 'denied', 'summarize', 'stateless']);
  });

  it("labels the call metrics with the client's era", async () => {
    await call(gw.url, 'echo', { arguments: { text: 'hi' } });
    const { body } = await gw.core.telemetry.metrics.scrape();
    expect(body).toMatch(/mcp_gateway_tool_calls_total\{tool="echo",backend="modern",outcome="ok",virtual_server="default",era="stateless"\} [1-9]/);
    expect(body).toMatch(/mcp_gateway_tool_call_duration_seconds_count\{backend="modern",outcome="ok",era="stateless"\} [1-9]/);
  });
});
