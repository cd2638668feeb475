/**
 * Plays Envoy for stateless (2026-07-28) requests: which phases the headers phase asks for,
 * what it refuses before the body, and a stateless client's `tools/call` of a stateless backend
 * (the real 2.4 SDK server) routed straight to the backend's cluster, the answer read by no one
 * but the client. The mutations are applied by hand to a real request, as Envoy would.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { clusterName } from '../../src/xds/clusters.js';
import { body, extProcClient, headers, openStream as open, setHeaders, type ExtProcClient } from '../support/extproc-stream.js';
import { MCP_HEADERS, startExtProc } from '../support/gateway.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { waitFor } from '../support/wait.js';

let modern: ModernServer;
let gw: RunningExtProc;
let client: ExtProcClient;

beforeAll(async () => {
  modern = await startModernServer('modern', { resources: false });
  gw = await startExtProc({
    backends: [
      { name: 'modern', kind: 'mcp', urls: [modern.url] },
      // Two instances whose MCP endpoints differ (path and query): Envoy could send a call to either.
      { name: 'split', kind: 'mcp', urls: [modern.url, `${modern.url}?instance=2`] },
    ],
  });
  await waitFor(() => gw.core.catalog.current().tools.has('modern_echo') && gw.core.catalog.current().tools.has('split_echo'), 'the modern tools discovered');
  client = extProcClient(gw.extprocPort);
});

afterAll(async () => {
  client?.close();
  await gw?.stop();
  await modern?.close();
});

const META = (capabilities: Record<string, unknown> = {}) => ({
  'io.modelcontextprotocol/protocolVersion': '2026-07-28',
  'io.modelcontextprotocol/clientCapabilities': capabilities,
  'io.modelcontextprotocol/clientInfo': { name: 'scripted', version: '1' },
});

/** A stateless tools/call's headers (as the 2.4 client sends them) and body. */
function statelessCall(id: number, name: string, args: Record<string, unknown>, over: { headerName?: string; capabilities?: Record<string, unknown> } = {}) {
  const h = { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': over.headerName ?? name, authorization: 'Bearer the-clients-own-token' };
  return { h, b: { jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args, _meta: META(over.capabilities) } } };
}

/** Send what ext_proc asked for to the backend, as Envoy would after applying the mutations. */
async function sendAsEnvoy(common: any, clientHeaders: Record<string, string>): Promise<Response> {
  const set = setHeaders(common.header_mutation);
  const remove = new Set<string>(common.header_mutation.remove_headers ?? []);
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(clientHeaders)) if (!remove.has(k)) sent[k] = v;
  for (const [k, v] of Object.entries(set)) if (!k.startsWith(':') && !k.startsWith('x-mcp-gateway-')) sent[k] = v;
  delete sent['content-length'];
  return fetch(new URL(set[':path']!, modern.url), { method: 'POST', headers: sent, body: common.body_mutation.body });
}

describe('stateless requests on an ext_proc stream', () => {
  it('asks for the body but not the response headers of a stateless POST; a session POST gets both', async () => {
    const s = open(client);
    const { h } = statelessCall(1, 'modern_echo', { text: 'x' });
    const first = await s.send(headers('POST', h));
    expect(first.request_headers.response.status).toBe('CONTINUE');
    expect(first.mode_override).toBeFalsy();
    s.close();
    const t = open(client);
    const session = await t.send(headers('POST', { ...MCP_HEADERS, 'mcp-session-id': 'any' }));
    expect(session.mode_override?.response_header_mode).toBe('SEND');
    t.close();
  });

  it('routes the call to the backend cluster: its own tool name in the body and Mcp-Name, the client _meta kept, no client token', async () => {
    const s = open(client);
    const { h, b } = statelessCall(7, 'modern_echo', { text: 'straight' });
    await s.send(headers('POST', h));
    const answer = await s.send(body(b));
    expect(answer.response).toBe('request_body');
    const common = answer.request_body.response;
    const set = setHeaders(common.header_mutation);
    expect(set['x-mcp-gateway-route']).toBe(clusterName('modern'));
    expect(set['mcp-name']).toBe('echo');
    expect(set['mcp-protocol-version']).toBe('2026-07-28');
    expect(common.header_mutation.remove_headers).toContain('authorization');
    const sent = JSON.parse(common.body_mutation.body.toString());
    expect(sent).toMatchObject({ id: 7, params: { name: 'echo', arguments: { text: 'straight' }, _meta: META() } });
    expect(Number(set['content-length'])).toBe(common.body_mutation.body.length);
    const before = modern.received.length;
    const res = await sendAsEnvoy(common, h);
    expect(res.status).toBe(200);
    const text = await res.text();
    // The backend's answer is already the client's shape (resultType); the SDK checked the headers against the body.
    expect(text).toContain('"resultType":"complete"');
    expect(text).toContain('modern: straight');
    expect(modern.received.slice(before).map((r) => r.headers['mcp-name'])).toEqual(['echo']);
    s.close();
  });

  it('tells the backend only the capabilities the gateway relays, as the broker does: a declared tasks extension stays behind', async () => {
    // A backend told of the tasks extension may make the call a task whose id the gateway never recorded.
    const declared = { extensions: { 'io.modelcontextprotocol/tasks': {} }, experimental: { anything: {} } };
    const s = open(client);
    const { h, b } = statelessCall(12, 'modern_echo', { text: 'narrow' }, { capabilities: declared });
    await s.send(headers('POST', h));
    const answer = await s.send(body(b));
    const common = answer.request_body.response;
    expect(setHeaders(common.header_mutation)['x-mcp-gateway-route']).toBe(clusterName('modern'));
    const before = modern.received.length;
    const res = await sendAsEnvoy(common, h);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('modern: narrow');
    const seen = modern.received.slice(before).map((r) => r.body.params._meta['io.modelcontextprotocol/clientCapabilities']);
    expect(seen).toEqual([{}]);
    s.close();
  });

  it('refuses a Mcp-Name the body contradicts (-32020) before anything is routed', async () => {
    const s = open(client);
    const { h, b } = statelessCall(8, 'modern_echo', { text: 'x' }, { headerName: 'modern_weather' });
    await s.send(headers('POST', h));
    const answer = await s.send(body(b));
    expect(answer.immediate_response.status.code).toBe('BadRequest');
    expect(JSON.parse(answer.immediate_response.body.toString()).error).toMatchObject({ code: -32020 });
    s.close();
  });

  it('refuses in the headers phase what the headers settle, without asking for the body', async () => {
    const s = open(client);
    const { h } = statelessCall(9, 'modern_echo', { text: 'x' });
    const first = await s.send(headers('POST', { ...h, 'content-type': 'text/plain' }));
    expect(first.immediate_response.status.code).toBe('UnsupportedMediaType');
    s.close();
  });

  it('leaves to the broker a stateless client that can answer input requests, and a retry with requestState', async () => {
    for (const over of [{ capabilities: { elicitation: { form: {} } } }, {}]) {
      const s = open(client);
      const { h, b } = statelessCall(10, 'modern_echo', { text: 'x' }, over);
      if (!('capabilities' in over)) (b.params as Record<string, unknown>).requestState = 'forged';
      await s.send(headers('POST', h));
      const answer = await s.send(body(b));
      if ('capabilities' in over) expect(setHeaders(answer.request_body.response.header_mutation)['x-mcp-gateway-route']).toBe('broker');
      // A requestState the gateway did not seal is refused before the backend sees it.
      else expect(JSON.parse(answer.immediate_response.body.toString()).error).toMatchObject({ code: expect.any(Number) });
      s.close();
    }
  });

  it('leaves to the broker a backend whose instances have different endpoints: Envoy picks the instance, not the path', async () => {
    const s = open(client);
    const { h, b } = statelessCall(11, 'split_echo', { text: 'x' });
    await s.send(headers('POST', h));
    const answer = await s.send(body(b));
    expect(setHeaders(answer.request_body.response.header_mutation)['x-mcp-gateway-route']).toBe('broker');
    s.close();
  });
});

describe('a 2026-07-28 backend checks its headers itself', () => {
  it('refuses (400, -32020) a tools/call whose Mcp-Name disagrees with the body: a skipped body phase could not make it run another tool', async () => {
    const res = await fetch(modern.url, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'weather' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'echo', arguments: { text: 'x' }, _meta: META() } }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error).toMatchObject({ code: -32020 });
  });
});
