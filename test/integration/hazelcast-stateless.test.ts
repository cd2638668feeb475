/**
 * A stateless client's multi-round-trip call across gateway instances: the backend's sampling
 * request ends the client's answer on instance A (the backend call held there), the client's
 * retry lands on instance B, which opens the sealed requestState with the key both share, delivers
 * the answer through the session store and reads the held call's stream from Hazelcast to the
 * final result. A replay on A finds the state spent.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startHazelcast } from '../harness/hazelcast.js';
import { waitFor } from '../support/wait.js';
import { stopAfterEach } from '../support/cleanup.js';

const V = '2026-07-28';
const KEY_ENV = 'GW_TEST_STATELESS_KEY';
let asker: AskingServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  process.env[KEY_ENV] = 'one secret shared by every instance of this test';
  asker = await startAskingServer();
});
afterAll(async () => {
  delete process.env[KEY_ENV];
  await asker?.close();
});

async function gateway(clusterName: string, members: string[]): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName, members, invocationTimeoutMs: 1500 } },
    stateless: { stateKey: { env: KEY_ENV } },
    backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }],
  });
  cleanup(() => gw.stop());
  await waitFor(() => gw.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
  return gw;
}

async function summarize(url: string, id: number, extra: Record<string, unknown> = {}): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'summarize' },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: {
        name: 'summarize',
        arguments: { topic: 'clusters' },
        _meta: { 'io.modelcontextprotocol/protocolVersion': V, 'io.modelcontextprotocol/clientCapabilities': { sampling: {} } },
        ...extra,
      },
    }),
  });
  const text = await res.text();
  return res.headers.get('content-type')?.startsWith('text/event-stream') ? JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6)) : JSON.parse(text);
}

describe('a held call across gateway instances', () => {
  it('is asked on one instance and continued on another, once', async () => {
    const cluster = `gw-${randomUUID()}`;
    const m = await startHazelcast({ clusterName: cluster });
    cleanup(() => m.stop());
    const [a, b] = [await gateway(cluster, [m.address]), await gateway(cluster, [m.address])];

    const first = await summarize(a.url, 1);
    expect(first.result.resultType).toBe('input_required');
    const [key, asked] = Object.entries(first.result.inputRequests)[0] as [string, any];
    expect(asked.method).toBe('sampling/createMessage');
    const answer = { [key]: { model: 'm-b', role: 'assistant', content: { type: 'text', text: 'answered on B' } } };

    const done = await summarize(b.url, 2, { inputResponses: answer, requestState: first.result.requestState });
    expect(done).toMatchObject({ id: 2, result: { resultType: 'complete', content: [{ text: 'asker got: answered on B (m-b)' }] } });

    const replayed = await summarize(a.url, 3, { inputResponses: answer, requestState: first.result.requestState });
    expect(replayed.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
  });
});
