/**
 * The era bridges across gateway instances sharing a real Hazelcast cluster:
 * - a session-era client (the official SDK 1.x client) calls a tool of a backend that speaks only
 *   2026-07-28 (a real `@modelcontextprotocol/server` 2.4 server) on instance A; the backend's
 *   `input_required` reaches the client as a real sampling request, and the client's answer is
 *   sent to instance B (as a load balancer may). B hands it through the store to A, whose call
 *   loop retries the backend with it: the call completes.
 * - a stateless client's retry of a held call, on B, goes away: the call held on A is cancelled,
 *   and its session-era backend hears of it.
 * - two first requests of one stateless caller racing to create its held record keep one record.
 */
import { randomUUID } from 'node:crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HazelcastSessionStore } from '../../src/session/hazelcast-store.js';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { raceFirstRequests } from '../support/held-race.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { waitFor } from '../support/wait.js';
import { stopAfterEach } from '../support/cleanup.js';

const V = '2026-07-28';
const KEY_ENV = 'GW_TEST_BRIDGES_KEY';
let modern: ModernServer;
let waiter: WaitingServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  process.env[KEY_ENV] = 'one secret shared by every instance of this test';
  [modern, waiter] = await Promise.all([startModernServer(), startWaitingServer()]);
});
afterAll(async () => {
  delete process.env[KEY_ENV];
  await Promise.all([modern?.close(), waiter?.close()]);
});

/** A session-era SDK 1.x server whose tool asks the client model, then works until its call is cancelled. */
interface WaitingServer extends McpHttpServer {
  /** Answers the tool got, after which it waits. */
  readonly waiting: string[];
  /** Answers of calls that were then cancelled. */
  readonly cancelled: string[];
}

async function startWaitingServer(): Promise<WaitingServer> {
  const waiting: string[] = [];
  const cancelled: string[] = [];
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name: 'waiter', version: '1.0.0' });
    mcp.registerTool('ask_then_wait', { description: 'Asks the client model, then waits to be cancelled.' }, async (extra) => {
      const r = await mcp.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'go on?' } }], maxTokens: 5 }, { relatedRequestId: extra.requestId });
      const answer = r.content.type === 'text' ? r.content.text : r.content.type;
      waiting.push(answer);
      await new Promise<void>((resolve) => extra.signal.addEventListener('abort', () => resolve(), { once: true }));
      cancelled.push(answer);
      return { content: [{ type: 'text', text: 'never seen' }] };
    });
    return mcp;
  });
  return Object.assign(server, { waiting, cancelled });
}

async function member(): Promise<HazelcastHandle> {
  const m = await startHazelcast({ clusterName: `gw-${randomUUID()}` });
  cleanup(() => m.stop());
  return m;
}

async function gateway(m: HazelcastHandle, backend: Record<string, unknown>, tool: string): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName: m.clusterName, members: [m.address], invocationTimeoutMs: 1500 } },
    stateless: { stateKey: { env: KEY_ENV } },
    // Longer than any wait below: a call that ends, ends because of what the test did.
    upstream: { timeoutMs: 60_000 },
    backends: [{ kind: 'mcp', prefix: '', ...backend }],
  });
  cleanup(() => gw.stop());
  await waitFor(() => gw.core.catalog.current().tools.has(tool), `${tool} discovered`, 20_000);
  return gw;
}

const isAnswer = (body: unknown): boolean => {
  if (typeof body !== 'string') return false;
  const m = JSON.parse(body) as Record<string, unknown>;
  return !('method' in m) && ('result' in m || 'error' in m);
};

describe('a stateless backend asking a session client, answered on another instance', () => {
  it('the answer is handed to the instance running the call, which retries the backend with it', async () => {
    const m = await member();
    const [a, b] = [await gateway(m, { name: 'modern', urls: [modern.url] }, 'summarize'), await gateway(m, { name: 'modern', urls: [modern.url] }, 'summarize')];

    // Everything goes to A, except the client's answers, which a load balancer sends to B.
    const toB: string[] = [];
    const transport = new StreamableHTTPClientTransport(new URL(a.url), {
      fetch: (url, init) => {
        if (init?.method === 'POST' && isAnswer(init.body)) {
          toB.push(String(init.body));
          return fetch(b.url, init);
        }
        return fetch(url, init);
      },
    });
    const client = new Client({ name: 'sdk1', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      const first = req.params.messages[0]?.content;
      return { model: 'm-b', role: 'assistant', content: { type: 'text', text: `answered: ${first && 'text' in first ? first.text : '?'}` } };
    });
    await client.connect(transport);
    try {
      const result = await client.callTool({ name: 'summarize', arguments: { topic: 'clusters' } });
      expect((result.content as Array<{ text: string }>)[0]!.text).toBe('modern got: answered: Summarize clusters (m-b)');
      expect(toB).toHaveLength(1);
      expect(JSON.parse(toB[0]!).id).toMatch(/^gw-relay-/);
      // A retried the backend with the answer B received.
      const retry = modern.received.filter((r) => r.body.params?.name === 'summarize').at(-1)!;
      expect(retry.body.params.inputResponses.summary).toMatchObject({ model: 'm-b', content: { text: 'answered: Summarize clusters' } });
    } finally {
      await client.close();
    }
  }, 90_000);
});

async function callAskThenWait(url: string, id: number, extra: Record<string, unknown> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'ask_then_wait' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'ask_then_wait', arguments: {}, _meta: { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } }, ...extra },
    }),
    ...(signal ? { signal } : {}),
  });
}

describe('a held call whose retry goes away on another instance', () => {
  it('is cancelled on the instance holding it, and the backend hears of it', async () => {
    const m = await member();
    const [a, b] = [await gateway(m, { name: 'waiter', urls: [waiter.url] }, 'ask_then_wait'), await gateway(m, { name: 'waiter', urls: [waiter.url] }, 'ask_then_wait')];

    const first: any = await (await callAskThenWait(a.url, 1)).json();
    expect(first.result.resultType).toBe('input_required');
    const [key] = Object.keys(first.result.inputRequests);
    const answer = `on B ${randomUUID()}`;
    const gone = new AbortController();
    const retry = callAskThenWait(b.url, 2, { inputResponses: { [key!]: { model: 'm', role: 'assistant', content: { type: 'text', text: answer } } }, requestState: first.result.requestState }, gone.signal).catch(() => undefined);

    await waitFor(() => waiter.waiting.includes(answer), 'the backend to get the answer B delivered', 20_000);
    gone.abort();
    await retry;
    await waitFor(() => waiter.cancelled.includes(answer), 'the held call on A to be cancelled', 20_000);
  }, 90_000);
});

describe('held records on a real cluster', () => {
  it('two first requests of one caller, on two instances, keep the record (and backend session) of the first', async () => {
    const m = await member();
    const open = () => HazelcastSessionStore.open({ clusterName: m.clusterName, members: [m.address], mapName: 'sessions', ttlMs: 60_000, invocationTimeoutMs: 1500, logger: pino({ level: 'silent' }) });
    const [one, two] = [await open(), await open()];
    cleanup(async () => void (await Promise.all([one.close(), two.close()])));

    const { seenBySecond, stored, backendSessionId } = await raceFirstRequests(one, two);
    expect(seenBySecond.backendSessions.notes?.sessionId).toBe(backendSessionId);
    expect(stored!.backendSessions.notes?.sessionId).toBe(backendSessionId);

    // Many creations at once from both instances: every one answers with the record the cluster kept.
    const id = `held-${randomUUID()}`;
    const now = Date.now();
    const kept = await Promise.all(
      Array.from({ length: 16 }, (_, i) => (i % 2 ? one : two).createIfAbsent({ id, principal: { issuer: null, subject: 'anonymous' }, protocolVersion: V, clientCapabilities: {}, clientInfo: { name: `creator-${i}` }, backendSessions: {}, createdAt: now, lastSeenAt: now })),
    );
    const winner = (await one.current(id))!.clientInfo;
    expect(kept.map((r) => r.clientInfo)).toEqual(Array.from({ length: 16 }, () => winner));
  }, 60_000);
});
