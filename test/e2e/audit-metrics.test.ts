import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, request, type IncomingHttpHeaders } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { sessionRef } from '../../src/telemetry/audit.js';
import { ORDER_TOOLS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { deadUrl, startSlowServer, type TestServer } from '../support/http-backends.js';
import { startIdp, type TestIdp } from '../support/oidc.js';
import { RecordingTracerProvider } from '../support/recording-tracer.js';

const AUDIENCE = 'http://gateway.test/mcp';
const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const TRACEPARENT = `00-${TRACE_ID}-00f067aa0ba902b7-01`;

type Recorder = { url: string; seen: IncomingHttpHeaders[]; close(): Promise<void> };

/** A REST backend that records the headers it receives. */
async function recordingBackend(): Promise<Recorder> {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    seen.push(req.headers);
    req.resume();
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
  });
  return { url: await listen(server), seen, close: () => closeServer(server) };
}

/** A pass-through proxy in front of an MCP server that records the headers the gateway sends it. */
async function recordingProxy(target: string): Promise<Recorder> {
  const seen: IncomingHttpHeaders[] = [];
  const to = new URL(target);
  const server = createServer((req, res) => {
    seen.push(req.headers);
    const up = request({ host: to.hostname, port: to.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  return { url: `${await listen(server)}/mcp`, seen, close: () => closeServer(server) };
}

let dir: string;
let auditFile: string;
let idp: TestIdp;
let orders: OrdersApi;
let notes: NotesServer;
let notesProxy: Recorder;
let echo: Recorder;
let slow: TestServer;
let dead: string;
let gw: TestGateway;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-audit-'));
  auditFile = join(dir, 'logs', 'audit.jsonl');
  idp = await startIdp([{ id: 'alice', claims: { roles: ['admin'] } }, { id: 'bob', claims: { roles: ['analyst'] } }], AUDIENCE);
  [orders, notes, echo, slow, dead] = await Promise.all([startOrdersApi(), startNotesServer(), recordingBackend(), startSlowServer(2_000), deadUrl()]);
  notesProxy = await recordingProxy(notes.url);
  gw = await startGateway({
    auth: { issuer: idp.issuer, audience: AUDIENCE, jwksCooldownMs: 0 },
    policy: {
      engine: 'rules',
      rules: [
        { tools: ['orders_create_order'], allow: { roles: ['admin'] } },
        { tools: ['*'], allow: 'anyone' },
      ],
    },
    audit: { sink: 'file', file: auditFile },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'notes', kind: 'mcp', urls: [notesProxy.url] },
      { name: 'echo', kind: 'rest', urls: [echo.url], tools: [{ name: 'ping', http: { method: 'GET', path: '/ping' } }] },
      { name: 'dead', kind: 'rest', urls: [dead], tools: [{ name: 'ping', http: { method: 'POST', path: '/ping' } }] },
      { name: 'slow', kind: 'rest', urls: [slow.url], tools: [{ name: 'ping', timeoutMs: 200, http: { method: 'GET', path: '/ping' } }] },
    ],
  });
});

afterAll(async () => {
  trace.disable();
  await gw?.stop();
  await Promise.all([orders?.close(), notes?.close(), notesProxy?.close(), echo?.close(), slow?.close(), idp?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function connect(token: string, headers: Record<string, string> = {}): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name: 'audit-test', version: '7.0' });
  const transport = new StreamableHTTPClientTransport(new URL(gw.url), { requestInit: { headers: { authorization: `Bearer ${token}`, ...headers } } });
  await client.connect(transport);
  return { client, transport };
}

async function auditEvents(): Promise<any[]> {
  const text = await readFile(auditFile, 'utf8').catch(() => '');
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

/** Audit lines are written asynchronously: wait until `pick` finds what it needs. */
async function waitFor<T>(pick: () => Promise<T | undefined>, what: string): Promise<T> {
  const until = Date.now() + 5_000;
  for (;;) {
    const v = await pick();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function eventsOf(session: string, count: number): Promise<any[]> {
  return waitFor(async () => {
    const mine = (await auditEvents()).filter((e) => e.session === session);
    return mine.length >= count ? mine : undefined;
  }, `${count} audit events of session ${session}`);
}

async function scrape(): Promise<string> {
  const res = await fetch(new URL('/metrics', gw.url));
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toContain('text/plain');
  return res.text();
}

/** The value of one series in the text exposition: `name` with at least these labels. */
function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  for (const line of text.split('\n')) {
    if (line.startsWith('#') || !line.startsWith(name)) continue;
    const m = /^([a-z_]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
    if (Object.entries(labels).every(([k, v]) => have[k] === v)) return Number(m[3]);
  }
  return undefined;
}

describe('audit trail', () => {
  let aliceToken: string;
  let aliceSession: string;

  it('writes one event per tools/call with who, what, where, outcome, latency and bytes', async () => {
    aliceToken = await idp.token('alice');
    const { client, transport } = await connect(aliceToken, { traceparent: TRACEPARENT });
    aliceSession = transport.sessionId!;
    expect((await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'orders_get_order', arguments: { id: '999999' } })).isError).toBe(true);
    await client.callTool({ name: 'orders_list_orders', arguments: { status: 'open', auth: { password: 'hunter2', user: 'al' }, note: 'Bearer s3cr3t-value' } });
    expect((await client.callTool({ name: 'notes_add_note', arguments: { text: 'audit me' } })).isError).toBeFalsy();
    expect((await client.callTool({ name: 'dead_ping', arguments: {} })).isError).toBe(true);
    expect((await client.callTool({ name: 'slow_ping', arguments: {} })).isError).toBe(true);
    expect((await client.callTool({ name: 'orders_get_order', arguments: { id: 'abc' } })).isError).toBe(true);
    await client.close();

    const ref = sessionRef(aliceSession);
    const events = await eventsOf(ref, 7);
    // The chain of calls of one session, in order (what the jq example in docs/observability.md does).
    expect(events.map((e) => [e.event, e.tool, e.outcome])).toEqual([
      ['mcp.tool_call', 'orders_get_order', 'ok'],
      ['mcp.tool_call', 'orders_get_order', 'tool_error'],
      ['mcp.tool_call', 'orders_list_orders', 'ok'],
      ['mcp.tool_call', 'notes_add_note', 'ok'],
      ['mcp.tool_call', 'dead_ping', 'upstream_error'],
      ['mcp.tool_call', 'slow_ping', 'timeout'],
      ['mcp.denial', 'orders_get_order', 'denied'],
    ]);
    const [ok, notFound, listed, note, down, late, invalid] = events;
    expect(ok).toMatchObject({
      decision: 'allow',
      principal: { issuer: idp.issuer, subject: 'alice' },
      client: { name: 'audit-test', version: '7.0', ip: '127.0.0.1' },
      backend: 'orders',
      instance: orders.url,
      arguments: { id: '1001' },
      errorCode: null,
      traceId: TRACE_ID,
    });
    expect(ok.bytes).toBeGreaterThan(50);
    expect(ok.latencyMs).toBeGreaterThan(0);
    expect(Date.parse(ok.time)).toBeGreaterThan(Date.now() - 60_000);
    expect(notFound.errorCode).toBe('GW_UPSTREAM_HTTP_ERROR');
    expect(listed.arguments).toEqual({ status: 'open', auth: { password: '[REDACTED]', user: 'al' }, note: '[REDACTED]' });
    expect(note).toMatchObject({ backend: 'notes', instance: notesProxy.url, outcome: 'ok' });
    expect(down).toMatchObject({ backend: 'dead', instance: dead, errorCode: 'GW_UPSTREAM_UNAVAILABLE' });
    expect(late).toMatchObject({ instance: slow.url, errorCode: 'GW_UPSTREAM_TIMEOUT' });
    expect(late.latencyMs).toBeGreaterThanOrEqual(190);
    expect(invalid).toMatchObject({ decision: 'deny', code: 'GW_ARGUMENTS_INVALID', status: 200, method: 'tools/call', arguments: { id: 'abc' } });

    // Never the token, the raw session id, or a redacted secret.
    const text = await readFile(auditFile, 'utf8');
    expect(text).not.toContain(aliceToken);
    expect(text).not.toContain(aliceSession);
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('s3cr3t');
  });

  it('writes one event per denial: policy, another identity\'s session, no token', async () => {
    const bobToken = await idp.token('bob');
    const { client, transport } = await connect(bobToken);
    const denied = await client.callTool({ name: 'orders_create_order', arguments: { item: 'mouse', quantity: 1 } }).catch((e: Error) => e);
    // Bob may not see the tool, so he is told it is unknown; the audit records a policy denial.
    expect(String(denied)).toMatch(/Unknown tool: "orders_create_order"/);
    await client.close();
    const [policy] = await eventsOf(sessionRef(transport.sessionId!), 1);
    expect(policy).toMatchObject({
      event: 'mcp.denial',
      decision: 'deny',
      code: 'GW_POLICY_DENIED',
      // Bob's listing does not show the tool, so it is refused before the policy is asked about the call.
      reason: '"orders_create_order" is not listed for this caller',
      principal: { subject: 'bob' },
      tool: 'orders_create_order',
      backend: 'orders',
      arguments: { item: 'mouse', quantity: 1 },
    });

    // Bob presents Alice's session id: 404, recorded with Bob as the principal and Alice's session.
    const stolen = await rawPost(gw.url, aliceSession, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'orders_list_orders', arguments: {} } }, { authorization: `Bearer ${bobToken}` });
    expect(stolen.status).toBe(404);
    const hijack = await waitFor(async () => (await auditEvents()).find((e) => e.code === 'GW_SESSION_NOT_FOUND'), 'the session-mismatch denial');
    expect(hijack).toMatchObject({ session: sessionRef(aliceSession), principal: { subject: 'bob' }, status: 404, method: 'tools/call', request: 9 });

    const anonymous = await rawPost(gw.url, undefined, { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    expect(anonymous.status).toBe(401);
    const unauthorized = await waitFor(async () => (await auditEvents()).find((e) => e.code === 'GW_UNAUTHORIZED'), 'the 401 denial');
    expect(unauthorized).toMatchObject({ principal: null, session: null, status: 401, outcome: 'denied' });
    expect(await readFile(auditFile, 'utf8')).not.toContain(bobToken);
  });
});

describe('metrics', () => {
  it('counts the calls, denials, sessions, catalog and cooling instances of the calls above', async () => {
    const text = await scrape();
    expect(sample(text, 'mcp_gateway_tool_calls_total', { tool: 'orders_get_order', backend: 'orders', outcome: 'ok' })).toBe(1);
    expect(sample(text, 'mcp_gateway_tool_calls_total', { tool: 'orders_get_order', backend: 'orders', outcome: 'tool_error' })).toBe(1);
    expect(sample(text, 'mcp_gateway_tool_calls_total', { tool: 'dead_ping', backend: 'dead', outcome: 'upstream_error' })).toBe(1);
    expect(sample(text, 'mcp_gateway_tool_calls_total', { tool: 'slow_ping', backend: 'slow', outcome: 'timeout' })).toBe(1);
    expect(sample(text, 'mcp_gateway_tool_call_duration_seconds_count', { backend: 'orders', outcome: 'ok' })).toBe(2);
    expect(sample(text, 'mcp_gateway_tool_call_duration_seconds_bucket', { backend: 'slow', outcome: 'timeout', le: '0.1' })).toBe(0);
    expect(sample(text, 'mcp_gateway_tool_call_duration_seconds_bucket', { backend: 'slow', outcome: 'timeout', le: '1' })).toBe(1);
    expect(sample(text, 'mcp_gateway_denials_total', { reason_code: 'GW_POLICY_DENIED' })).toBe(1);
    expect(sample(text, 'mcp_gateway_denials_total', { reason_code: 'GW_ARGUMENTS_INVALID' })).toBe(1);
    expect(sample(text, 'mcp_gateway_denials_total', { reason_code: 'GW_SESSION_NOT_FOUND' })).toBe(1);
    expect(sample(text, 'mcp_gateway_denials_total', { reason_code: 'GW_UNAUTHORIZED' })).toBe(1);
    expect(sample(text, 'mcp_gateway_active_sessions')).toBeGreaterThanOrEqual(2);
    expect(sample(text, 'mcp_gateway_catalog_tools')).toBe(10);
    expect(sample(text, 'mcp_gateway_catalog_stale')).toBe(0);
    expect(sample(text, 'mcp_gateway_catalog_age_seconds')).toBeGreaterThanOrEqual(0);
    expect(sample(text, 'mcp_gateway_upstream_instance_cooling', { backend: 'dead', instance: dead })).toBe(1);
    expect(sample(text, 'mcp_gateway_upstream_instance_cooling', { backend: 'orders', instance: orders.url })).toBe(0);
    expect(text).not.toMatch(/session="/);
  });
});

describe('trace context', () => {
  it('without an OpenTelemetry SDK, forwards the incoming traceparent to REST and MCP backends unchanged', async () => {
    const token = await idp.token('alice');
    const { client } = await connect(token, { traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    echo.seen.length = 0;
    notesProxy.seen.length = 0;
    await client.callTool({ name: 'echo_ping', arguments: {} });
    await client.callTool({ name: 'notes_list_notes', arguments: {} });
    await client.close();
    expect(echo.seen[0]).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(notesProxy.seen.find((h) => h.traceparent !== undefined)).toMatchObject({ traceparent: TRACEPARENT, tracestate: 'vendor=abc' });
    expect(echo.seen[0]!.authorization).toBeUndefined();
  });

  it('with a tracer registered, records the call as a server span and a client span whose context the backend gets', async () => {
    const provider = new RecordingTracerProvider();
    trace.setGlobalTracerProvider(provider);
    const token = await idp.token('alice');
    const { client, transport } = await connect(token, { traceparent: TRACEPARENT });
    const session = sessionRef(transport.sessionId!);
    echo.seen.length = 0;
    await client.callTool({ name: 'echo_ping', arguments: {} });
    await client.callTool({ name: 'dead_ping', arguments: {} });
    await client.close();
    const spans = await waitFor(async () => (provider.spans.filter((s) => s.ended).length >= 4 ? provider.spans : undefined), 'four ended spans');
    const ping = spans.find((s) => s.name === 'tools/call echo_ping')!;
    expect(ping).toMatchObject({
      kind: SpanKind.SERVER,
      traceId: TRACE_ID,
      parentSpanId: '00f067aa0ba902b7',
      attributes: {
        'mcp.method.name': 'tools/call',
        'gen_ai.tool.name': 'echo_ping',
        'gen_ai.operation.name': 'execute_tool',
        'mcp.session.id': session,
        'jsonrpc.request.id': expect.any(String),
        'mcp.gateway.backend': 'echo',
        'mcp.gateway.outcome': 'ok',
        'mcp.gateway.instance': echo.url,
      },
    });
    const toBackend = spans.find((s) => s.parentSpanId === ping.spanId)!;
    expect(toBackend).toMatchObject({ name: 'tools/call ping', kind: SpanKind.CLIENT, attributes: { 'server.address': '127.0.0.1', 'server.port': Number(new URL(echo.url).port) } });
    const down = spans.find((s) => s.name === 'tools/call dead_ping')!;
    expect(down.status?.code).toBe(SpanStatusCode.ERROR);
    expect(down.attributes).toMatchObject({ 'mcp.gateway.outcome': 'upstream_error', 'error.type': expect.stringMatching(/^GW_UPSTREAM_/) });
    // The backend's parent is the gateway's client span, in the caller's trace.
    expect(echo.seen[0]!.traceparent).toBe(`00-${TRACE_ID}-${toBackend.spanId}-01`);
  });
});
