/**
 * A backend's cap on calls open at once (`backends[].maxConcurrentCalls`) in the standalone
 * gateway, against real backends that hold their calls until the test lets them go: the calls past
 * the cap are refused at once with GW_UPSTREAM_BUSY and never reach the backend, and a call frees
 * its slot however it ends (answered, cancelled by the client, cut by a client that went away, timed out).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startHoldingServer, type HoldingServer } from '../support/holding-mcp.js';
import { waitFor } from '../support/wait.js';

/** A REST backend that answers its requests only when released, counting those it holds. */
async function startHoldingApi() {
  const held: ServerResponse[] = [];
  let arrived = 0;
  let closedEarly = 0;
  const server = createServer((req, res) => {
    arrived++;
    req.resume();
    res.on('close', () => res.writableFinished || closedEarly++);
    held.push(res);
  });
  const url = await listen(server);
  return {
    url,
    arrived: () => arrived,
    closedEarly: () => closedEarly,
    release: () => held.splice(0).forEach((res) => res.writableEnded || res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')),
    close: () => closeServer(server),
  };
}

let dir: string;
let auditFile: string;
let holder: HoldingServer;
let slow: HoldingServer;
let api: Awaited<ReturnType<typeof startHoldingApi>>;
let gw: TestGateway;
let sessionId: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-conc-'));
  auditFile = join(dir, 'audit.jsonl');
  [holder, slow, api] = await Promise.all([startHoldingServer(), startHoldingServer(), startHoldingApi()]);
  gw = await startGateway({
    audit: { sink: 'file', file: auditFile },
    backends: [
      { name: 'held', kind: 'mcp', urls: [holder.url], maxConcurrentCalls: 2 },
      // Its calls run out of their budget while the backend holds them.
      { name: 'slow', kind: 'mcp', urls: [slow.url], maxConcurrentCalls: 1, timeoutMs: 500 },
      { name: 'legacy', kind: 'rest', urls: [api.url], maxConcurrentCalls: 1, tools: [{ name: 'hold', http: { path: '/hold' } }] },
    ],
  });
  await waitFor(() => gw.core.catalog.current().tools.has('held_hold') && gw.core.catalog.current().tools.has('slow_hold'), 'native tools discovered', 15_000);
  ({ sessionId } = await rawInitialize(gw.url));
}, 30_000);

afterAll(async () => {
  holder?.release();
  slow?.release();
  api?.release();
  await gw?.stop();
  await Promise.all([holder?.close(), slow?.close(), api?.close()]);
  await rm(dir, { recursive: true, force: true });
});

/** Call a tool; the promise holds the HTTP status and the JSON-RPC response (JSON or the SSE event carrying it). */
async function call(id: number, name: string, signal?: AbortSignal): Promise<{ status: number; answer: any }> {
  const res = await fetch(gw.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', 'mcp-session-id': sessionId, 'mcp-protocol-version': '2025-11-25' },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: {} } }),
    ...(signal ? { signal } : {}),
  });
  const text = await res.text();
  if (res.headers.get('content-type')?.startsWith('application/json')) return { status: res.status, answer: JSON.parse(text) };
  const events = text.split('\n').filter((l) => l.startsWith('data: ')).map((l) => JSON.parse(l.slice(6)));
  return { status: res.status, answer: events.find((m) => m.id === id) };
}

const codeOf = (answer: any): string | undefined => answer?.result?._meta?.['io.github.mcp-gateway/error'];

async function auditOf(id: number): Promise<any> {
  let event: any;
  await waitFor(async () => {
    const text = await readFile(auditFile, 'utf8').catch(() => '');
    event = text.split('\n').filter(Boolean).map((l) => JSON.parse(l)).find((e) => e.event === 'mcp.tool_call' && e.request === id);
    return event !== undefined;
  }, `the audit event of call ${id}`);
  return event;
}

async function outcomes(tool: string, outcome: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', gw.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`mcp_gateway_tool_calls_total{tool="${tool}",`) && l.includes(`outcome="${outcome}"`));
  return line ? Number(line.split(' ').at(-1)) : 0;
}

/** One backend's sample of a per-backend gauge; undefined when the gauge has none for it. */
async function gauge(name: string, backend: string): Promise<number | undefined> {
  const text = await (await fetch(new URL('/metrics', gw.url))).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}{backend="${backend}"}`));
  return line ? Number(line.split(' ').at(-1)) : undefined;
}

describe('a backend with maxConcurrentCalls in the standalone gateway', () => {
  it('lets two calls reach a native backend capped at 2, refuses the third at once, and takes calls again once a slot is free', { timeout: 30_000 }, async () => {
    const a = call(1, 'held_hold');
    const b = call(2, 'held_hold');
    await waitFor(() => holder.holding() === 2, 'two calls held by the backend');
    // Answered while the first two are still open: refused at once, not queued behind them.
    const third = await call(3, 'held_hold');
    expect(third.status).toBe(200);
    expect(codeOf(third.answer)).toBe('GW_UPSTREAM_BUSY');
    expect(third.answer.result.isError).toBe(true);
    expect(third.answer.result.content[0].text).toContain('backend "held" has 2 calls open');
    expect(holder.holding()).toBe(2);
    // Audited and counted like the other failures on the way to a backend.
    expect(await auditOf(3)).toMatchObject({ backend: 'held', tool: 'held_hold', outcome: 'busy', errorCode: 'GW_UPSTREAM_BUSY' });
    expect(await outcomes('held_hold', 'busy')).toBe(1);
    // Operators see how full the cap is: both slots taken, of 2.
    expect(await gauge('mcp_gateway_backend_open_calls', 'held')).toBe(2);
    expect(await gauge('mcp_gateway_backend_max_concurrent_calls', 'held')).toBe(2);

    // The client cancels the first: its slot is free once its exchange has ended (204, no answer).
    expect((await rawPost(gw.url, sessionId, { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1, reason: 'stop' } })).status).toBe(202);
    expect((await a).status).toBe(204);
    const d = call(4, 'held_hold');
    // It reached the backend (whose handler of the cancelled call still waits there too).
    await waitFor(() => holder.holding() === 3, 'the next call held by the backend');
    holder.release();
    expect((await b).answer.result.content[0].text).toBe('released');
    expect((await d).answer.result.content[0].text).toBe('released');
    // Both slots free again: a new call passes.
    expect((await call(5, 'held_hold')).answer.result.content[0].text).toBe('released');
    expect(await gauge('mcp_gateway_backend_open_calls', 'held')).toBe(0);
  });

  it('frees the slot of a call that timed out: the next call reaches the backend instead of being refused', { timeout: 30_000 }, async () => {
    expect(codeOf((await call(11, 'slow_hold')).answer)).toBe('GW_UPSTREAM_TIMEOUT');
    expect(slow.holding()).toBe(1);
    expect(codeOf((await call(12, 'slow_hold')).answer)).toBe('GW_UPSTREAM_TIMEOUT');
    expect(slow.holding()).toBe(2);
  });

  it('caps a REST backend the same, and frees the slot of a call whose client went away', { timeout: 30_000 }, async () => {
    const gone = new AbortController();
    const first = call(21, 'legacy_hold', gone.signal).catch(() => 'aborted');
    await waitFor(() => api.arrived() === 1, 'the first call held by the backend');
    expect(codeOf((await call(22, 'legacy_hold')).answer)).toBe('GW_UPSTREAM_BUSY');
    expect(api.arrived()).toBe(1);
    gone.abort();
    expect(await first).toBe('aborted');
    // The gateway dropped the backend request and recorded the call as cancelled: its slot is free.
    await waitFor(async () => api.closedEarly() === 1 && (await outcomes('legacy_hold', 'cancelled')) === 1, 'the call cut at the backend and recorded');
    const next = call(23, 'legacy_hold');
    await waitFor(() => api.arrived() === 2, 'the next call held by the backend');
    api.release();
    expect((await next).answer.result.isError).toBeFalsy();
  });
});
