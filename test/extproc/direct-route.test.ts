/**
 * Plays Envoy for native MCP calls routed straight to their backend: the mutations ext_proc
 * answers are applied by hand to a real request to the real SDK backend (as Envoy would), and
 * the backend's answer status is fed back. Also the ticket that spares the broker a second
 * admission.
 */
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { clusterName } from '../../src/xds/clusters.js';
import { BROKER_CLUSTER } from '../../src/extproc/translate.js';
import { body, carriedMetadata, chunk, extProcClient, headers, INITIALIZE, openStream as open, pipelinedHeaders, responseHeaders, setHeaders, type ExtProcClient } from '../support/extproc-stream.js';
import { startGatedProxy, type GatedProxy } from '../support/http-backends.js';
import { waitFor } from '../support/wait.js';
import { MCP_HEADERS, ORDER_TOOLS, rawInitialize, startExtProc } from '../support/gateway.js';

let notes: NotesServer;
/** Another way to the notes backend, whose `initialize` requests can be held (a backend slow to open sessions). */
let gated: GatedProxy;
let orders: OrdersApi;
let gw: RunningExtProc;
let client: ExtProcClient;

beforeAll(async () => {
  notes = await startNotesServer();
  gated = await startGatedProxy(notes.url);
  orders = await startOrdersApi();
  gw = await startExtProc({
    backends: [
      { name: 'notes', kind: 'mcp', urls: [notes.url] },
      { name: 'gated', kind: 'mcp', urls: [gated.url] },
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
    ],
  });
  await waitFor(() => gw.core.catalog.current().tools.has('notes_add_note') && gw.core.catalog.current().tools.has('gated_list_notes'), 'the notes tools discovered');
  client = extProcClient(gw.extprocPort);
});

afterAll(async () => {
  client?.close();
  await gw?.stop();
  await gated?.close();
  await notes?.close();
  await orders?.close();
});

const openStream = () => open(client);

async function sendAsEnvoy(common: any, clientHeaders: Record<string, string>): Promise<Response> {
  const set = setHeaders(common.header_mutation);
  const remove = new Set<string>(common.header_mutation.remove_headers ?? []);
  const sent: Record<string, string> = {};
  for (const [k, v] of Object.entries(clientHeaders)) if (!remove.has(k) && !k.startsWith(':')) sent[k] = v;
  for (const [k, v] of Object.entries(set)) if (!k.startsWith(':') && !k.startsWith('x-mcp-gateway-')) sent[k] = v;
  delete sent['content-length'];
  return fetch(new URL(set[':path']!, notes.url), { method: 'POST', headers: sent, body: common.body_mutation.body });
}

/** A `notes_add_note` call routed in the pipelined mode: its stream, and the headers set with the call's name (for a failing answer shown apart). */
async function pipelinedCall(sessionId: string, id: number) {
  const s = openStream();
  s.push(pipelinedHeaders('POST', { ...MCP_HEADERS, 'mcp-session-id': sessionId }));
  s.push(body({ jsonrpc: '2.0', id, method: 'tools/call', params: { name: 'notes_add_note', arguments: { text: `call ${id}` } } }));
  const answer = await s.next();
  const set: Record<string, string | undefined> = { ...setHeaders(answer.request_headers.response.header_mutation), 'x-mcp-gateway-call': carriedMetadata(answer).call };
  await s.next();
  return { s, set };
}

async function routedCall(sessionId: string, id: number, name: string, args: Record<string, unknown>) {
  const clientHeaders = { ...MCP_HEADERS, 'mcp-session-id': sessionId, authorization: 'Bearer the-clients-own-token', 'x-mcp-gateway-subject': 'admin' };
  const s = openStream();
  const first = await s.send(headers('POST', clientHeaders));
  const answer = await s.send(body({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } }));
  return { s, first, answer, clientHeaders };
}

describe('native MCP tools/call routed straight to the backend', () => {
  it('rewrites the call for the backend: its tool name and length, its session, no client token, the backend cluster', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const { s, first, answer, clientHeaders } = await routedCall(sessionId, 41, 'notes_add_note', { text: 'routed' });
    // MCP POSTs ask for the response headers, to settle routed calls.
    expect(first.mode_override?.response_header_mode).toBe('SEND');
    expect(answer.response).toBe('request_body');
    const common = answer.request_body.response;
    const set = setHeaders(common.header_mutation);
    const sent = JSON.parse(common.body_mutation.body.toString());
    expect(sent).toEqual({ jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'add_note', arguments: { text: 'routed' } } });
    expect(set['content-length']).toBe(String(common.body_mutation.body.length));
    expect(set['x-mcp-gateway-route']).toBe(clusterName('notes'));
    expect(set[':path']).toBe('/mcp');
    expect(notes.sessions.has(set['mcp-session-id']!)).toBe(true);
    expect(set['mcp-session-id']).not.toBe(sessionId);
    const port = new URL(notes.url).port;
    expect(Buffer.from(set['x-mcp-gateway-upstream-host']!, 'base64').toString()).toBe(`127.0.0.1:${port}`);
    expect(set['x-mcp-gateway-retry']).toBe('unsent-only');
    // What is left of the backend's budget (upstream.timeoutMs, 30 s, by default) once its session
    // is open, enforced by Envoy's router.
    const budget = Number(set['x-envoy-upstream-rq-timeout-ms']);
    expect(budget).toBeGreaterThan(25_000);
    expect(budget).toBeLessThanOrEqual(30_000);
    expect(common.header_mutation.remove_headers).toEqual(expect.arrayContaining(['authorization', 'x-mcp-gateway-subject']));
    expect(common.clear_route_cache).toBe(true);

    const res = await sendAsEnvoy(common, clientHeaders);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toContain('saved note #');
    expect(text).toContain('"id":41');

    const passed = await s.send(responseHeaders(200, { 'mcp-session-id': set['mcp-session-id']! }));
    expect(passed.response).toBe('response_headers');
    // The backend's session id never reaches the client.
    expect(passed.response_headers.response.header_mutation.remove_headers).toContain('mcp-session-id');
    // Until its exchange ends, a client's cancellation of the call is relayed; after, it is forgotten.
    expect(gw.core.direct.cancel(sessionId, 41, 'late')).toBe(true);
    s.close();
    await waitFor(() => !gw.core.direct.cancel(sessionId, 41, 'late'), 'the ended call to be forgotten');
  });

  it('pipelined: answers the headers once the body is in, with the routing it decided, then each chunk, the first carrying the new body', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const clientHeaders = { ...MCP_HEADERS, 'mcp-session-id': sessionId };
    const s = openStream();
    const text = JSON.stringify({ jsonrpc: '2.0', id: 51, method: 'tools/call', params: { name: 'notes_add_note', arguments: { text: 'pipelined' } } });
    // Envoy sends the headers and the body's chunks without waiting for an answer.
    s.push(pipelinedHeaders('POST', clientHeaders));
    s.push(chunk(text.slice(0, 20), false));
    s.push(chunk(text.slice(20), true));
    const first = await s.next();
    expect(first.response).toBe('request_headers');
    const common = first.request_headers.response;
    const set = setHeaders(common.header_mutation);
    // The route needs the tool's name, which only the body has.
    expect(set['x-mcp-gateway-route']).toBe(clusterName('notes'));
    expect(common.clear_route_cache).toBe(true);
    // No response phase: the call's name, which Envoy copies onto a failing answer it shows ext_proc apart.
    // With what another replica needs to answer a failure: the budget, whether the session is pinned, the backend.
    // In dynamic metadata, not a request header: the backend never sees it.
    expect(carriedMetadata(first)).toEqual({ call: expect.stringMatching(/^[0-9a-f-]{36};30000;p;notes$/), rpc_id: '51' });
    expect(Object.keys(set).filter((name) => name.startsWith('x-mcp-gateway-call'))).toEqual([]);
    const [second, third] = [await s.next(), await s.next()];
    expect(second.response).toBe('request_body');
    const sent = JSON.parse(second.request_body.response.body_mutation.body.toString());
    expect(sent.params.name).toBe('add_note');
    expect(third.request_body.response.body_mutation.clear_body).toBe(true);
    const res = await sendAsEnvoy({ ...common, body_mutation: second.request_body.response.body_mutation }, clientHeaders);
    expect(await res.text()).toContain('"id":51');
    s.close();
  });

  it('pipelined: a failing answer shown apart settles the call (the tool error instead, the lost session forgotten); a passing one is never shown', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const routed = (id: number) => pipelinedCall(sessionId, id);
    const first = await routed(61);
    const backendSession = first.set['mcp-session-id']!;
    expect(notes.sessions.has(backendSession)).toBe(true);
    // envoy.yaml's mcp.failed_answers: a stream of its own, the answer's headers only, naming the call.
    const apart = openStream();
    const answer = await apart.send(responseHeaders(404, { 'x-mcp-gateway-call': first.set['x-mcp-gateway-call']! }));
    expect(answer.immediate_response.status.code).toBe('OK');
    expect(JSON.parse(answer.immediate_response.body.toString())).toMatchObject({ id: 61, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_SESSION_LOST' } } });
    apart.close();
    first.s.close();
    const second = await routed(62);
    expect(second.set['mcp-session-id']).not.toBe(backendSession);
    expect(notes.sessions.has(second.set['mcp-session-id']!)).toBe(true);
    second.s.close();
    await waitFor(() => !gw.core.direct.cancel(sessionId, 62, 'ended'), 'the ended call to be forgotten');
    // A call that ended is not one to settle any more: its name answers nothing.
    const late = openStream();
    expect((await late.send(responseHeaders(500, { 'x-mcp-gateway-call': second.set['x-mcp-gateway-call']! }))).response).toBe('response_headers');
    late.close();
  });

  it("pipelined: Envoy's circuit breaker refusing a call (503, x-envoy-overloaded) answers GW_UPSTREAM_BUSY, and neither cools the instance nor drops the backend session", async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const routed = (id: number) => pipelinedCall(sessionId, id);
    const first = await routed(71);
    const apart = openStream();
    const answer = await apart.send(responseHeaders(503, { 'content-type': 'text/plain', 'x-envoy-overloaded': 'true', 'x-mcp-gateway-call': first.set['x-mcp-gateway-call']! }));
    expect(JSON.parse(answer.immediate_response.body.toString())).toMatchObject({ id: 71, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_BUSY' } } });
    apart.close();
    first.s.close();
    const outcome = async () => /mcp_gateway_tool_calls_total\{tool="notes_add_note",backend="notes",outcome="busy"/.test((await gw.core.telemetry.metrics.scrape()).body);
    await waitFor(outcome, 'the refused call counted as busy (load shed, not a backend failure)');
    // The call never reached the instance: not cooled, and the pinned backend session still serves the next call.
    expect((await gw.core.telemetry.metrics.scrape()).body).toMatch(/mcp_gateway_upstream_instance_cooling\{backend="notes",[^}]*\} 0/);
    const second = await routed(72);
    expect(second.set['mcp-session-id']).toBe(first.set['mcp-session-id']);
    second.s.close();
  });

  it('pipelined: a call whose stream Envoy closed before it was answered (Envoy gave up waiting) is recorded unanswered, not as answered', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const hitsBefore = gated.hits.count;
    gated.holdInitialize = true;
    try {
      const s = openStream();
      s.push(pipelinedHeaders('POST', { ...MCP_HEADERS, 'mcp-session-id': sessionId }));
      s.push(body({ jsonrpc: '2.0', id: 91, method: 'tools/call', params: { name: 'gated_list_notes', arguments: {} } }));
      await waitFor(() => gated.hits.count > hitsBefore, 'the backend session to start opening');
      // Envoy's message timeout: it answers the client itself and closes the stream.
      s.close();
    } finally {
      gated.holdInitialize = false;
      gated.release();
    }
    const outcome = async (o: string) => new RegExp(`mcp_gateway_tool_calls_total\\{tool="gated_list_notes",backend="gated",outcome="${o}"`).test((await gw.core.telemetry.metrics.scrape()).body);
    await waitFor(() => outcome('cancelled'), 'the call recorded as not answered');
    expect(await outcome('ok')).toBe(false);
  });

  it('tells the client to call again when the backend lost the session, and opens a new one next time', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const one = await routedCall(sessionId, 1, 'notes_list_notes', {});
    const firstBackendSession = setHeaders(one.answer.request_body.response.header_mutation)['mcp-session-id'];
    expect(setHeaders(one.answer.request_body.response.header_mutation)['x-mcp-gateway-retry']).toBe('safe');
    const lost = await one.s.send(responseHeaders(404));
    expect(lost.response).toBe('immediate_response');
    const reply = JSON.parse(lost.immediate_response.body.toString());
    expect(reply).toMatchObject({ jsonrpc: '2.0', id: 1, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_SESSION_LOST' } } });
    one.s.close();

    const two = await routedCall(sessionId, 2, 'notes_list_notes', {});
    const next = setHeaders(two.answer.request_body.response.header_mutation)['mcp-session-id'];
    expect(next).toBeDefined();
    expect(next).not.toBe(firstBackendSession);
    two.s.close();
  });

  it("answers GW_UPSTREAM_TIMEOUT when Envoy's router runs out of the budget, stops the backend, and keeps its session", async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const call = await routedCall(sessionId, 9, 'notes_count_slowly', { n: 20, delayMs: 100 });
    const common = call.answer.request_body.response;
    const backendSession = setHeaders(common.header_mutation)['mcp-session-id'];
    const before = notes.cancelled.count;
    const running = await sendAsEnvoy(common, call.clientHeaders); // the backend is counting
    const timedOut = await call.s.send(responseHeaders(504));
    const reply = JSON.parse(timedOut.immediate_response.body.toString());
    expect(reply).toMatchObject({ id: 9, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_TIMEOUT' } } });
    await waitFor(() => notes.cancelled.count > before, 'the backend to be told to stop');
    await running.body?.cancel();
    call.s.close();
    // A slow call is not a broken instance: the client's backend session stays.
    const next = await routedCall(sessionId, 10, 'notes_list_notes', {});
    expect(setHeaders(next.answer.request_body.response.header_mutation)['mcp-session-id']).toBe(backendSession);
    next.s.close();
  });

  it('drops a call the client cancels while its backend session is still opening', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const hitsBefore = gated.hits.count;
    gated.holdInitialize = true;
    try {
      const clientHeaders = { ...MCP_HEADERS, 'mcp-session-id': sessionId };
      const s = openStream();
      await s.send(headers('POST', clientHeaders));
      const pending = s.send(body({ jsonrpc: '2.0', id: 12, method: 'tools/call', params: { name: 'gated_list_notes', arguments: {} } }));
      await waitFor(() => gated.hits.count > hitsBefore, 'the backend session to start opening');
      expect(gw.core.direct.cancel(sessionId, 12, 'user pressed stop')).toBe(true);
      // Not sent on, not waited for (the budget is 30 s): no answer, as MCP wants for a cancelled request.
      const answered = await pending;
      expect(answered.immediate_response.status.code).toBe('Accepted'); // 202
      expect(answered.immediate_response.body.length).toBe(0);
      expect(gw.core.direct.cancel(sessionId, 12, 'again')).toBe(false);
      s.close();
    } finally {
      gated.holdInitialize = false;
    }
  });

  it('answers a backend failure with a tool error the model can act on', async () => {
    const { sessionId } = await rawInitialize(gw.brokerUrl);
    const call = await routedCall(sessionId, 5, 'notes_add_note', { text: 'x' });
    const failed = await call.s.send(responseHeaders(503));
    const reply = JSON.parse(failed.immediate_response.body.toString());
    expect(reply).toMatchObject({ id: 5, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_UNAVAILABLE' } } });
    call.s.close();
  });
});

describe('decisions handed to the broker', () => {
  it('lets the broker carry out what ext_proc admitted without admitting it again', async () => {
    const s = openStream();
    await s.send(headers('POST'));
    const answer = await s.send(body(INITIALIZE));
    const ticket = setHeaders(answer.request_body.response.header_mutation)['x-mcp-gateway-admitted'];
    s.close();
    // The forwarded request lacks what admission would insist on (a JSON content type): the
    // broker still answers, because it carries out the decision behind the ticket.
    const res = await fetch(gw.brokerUrl, { method: 'POST', headers: { accept: 'application/json', 'x-mcp-gateway-admitted': ticket! }, body: JSON.stringify(INITIALIZE) });
    expect(res.status).toBe(200);
    expect(res.headers.get('mcp-session-id')).toBeTruthy();
    // A ticket is good once: the same request again is admitted, and refused.
    const again = await fetch(gw.brokerUrl, { method: 'POST', headers: { accept: 'application/json', 'x-mcp-gateway-admitted': ticket! }, body: JSON.stringify(INITIALIZE) });
    expect(again.status).toBe(415);
  });
});

describe('a call the policy asks the user to confirm', () => {
  it('goes to the broker, which asks, instead of straight to the backend', async () => {
    const confirming = await startExtProc({
      backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }],
      policy: { engine: 'rules', rules: [{ tools: ['*'], allow: 'anyone', confirm: true }] },
    });
    const c = extProcClient(confirming.extprocPort);
    try {
      await waitFor(() => confirming.core.catalog.current().tools.has('notes_add_note'), 'the notes tools discovered');
      const { sessionId } = await rawInitialize(confirming.brokerUrl);
      const s = open(c);
      const clientHeaders = { ...MCP_HEADERS, 'mcp-session-id': sessionId };
      await s.send(headers('POST', clientHeaders));
      const answer = await s.send(body({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'notes_add_note', arguments: { text: 'unconfirmed' } } }));
      s.close();
      const set = setHeaders(answer.request_body.response.header_mutation);
      expect(set['x-mcp-gateway-route']).toBe(BROKER_CLUSTER);
      // This client declared no elicitation: the broker refuses the call without the backend.
      const res = await fetch(confirming.brokerUrl, { method: 'POST', headers: { ...clientHeaders, 'x-mcp-gateway-admitted': set['x-mcp-gateway-admitted']! }, body: answer.request_body.response.body_mutation?.body ?? JSON.stringify({ jsonrpc: '2.0', id: 7, method: 'tools/call', params: { name: 'notes_add_note', arguments: { text: 'unconfirmed' } } }) });
      const text = await res.text();
      expect(text).toContain('GW_CONFIRMATION_UNAVAILABLE');
      expect(text).not.toContain('saved note');
    } finally {
      c.close();
      await confirming.stop();
    }
  });
});

describe('shutdown', () => {
  it('gives routed calls the grace period, then records the ones still streaming as cut, never ok', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-audit-'));
    const auditFile = join(dir, 'audit.jsonl');
    const own = await startExtProc({ audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 }, backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }] });
    await waitFor(() => own.core.catalog.current().tools.has('notes_count_slowly'), 'the notes tools discovered');
    const c = extProcClient(own.extprocPort);
    try {
      const { sessionId } = await rawInitialize(own.brokerUrl);
      const s = open(c);
      await s.send(headers('POST', { ...MCP_HEADERS, 'mcp-session-id': sessionId }));
      const routed = await s.send(body({ jsonrpc: '2.0', id: 5, method: 'tools/call', params: { name: 'notes_count_slowly', arguments: { n: 20, delayMs: 1000 } } }));
      expect(setHeaders(routed.request_body.response.header_mutation)['x-mcp-gateway-route']).toBe(clusterName('notes'));
      // The backend answered 200 and its stream is still passing through Envoy when the gateway stops.
      await s.send(responseHeaders(200));
      await own.stop(200);
      const events = (await readFile(auditFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
      expect(events.filter((e) => e.event === 'mcp.tool_call').map((e) => [e.tool, e.outcome, e.errorCode])).toEqual([['notes_count_slowly', 'cut', 'GW_SHUTTING_DOWN']]);
    } finally {
      c.close();
      await own.stop().catch(() => undefined);
    }
  });
});
