/**
 * A backend's request relayed to a client on one gateway instance, answered by the client on
 * another: the pending mapping lives in the session record in a real Hazelcast cluster, and the
 * instance that gets the answer sends it to the backend session the record names.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeSse } from '../../src/mcp/sse.js';
import { MCP_HEADERS, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startHazelcast } from '../harness/hazelcast.js';
import { waitFor } from '../support/wait.js';
import { stopAfterEach } from '../support/cleanup.js';

let asker: AskingServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  asker = await startAskingServer();
});
afterAll(async () => {
  await asker?.close();
});

async function gateway(clusterName: string, members: string[]): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', hazelcast: { clusterName, members, invocationTimeoutMs: 1500 } },
    backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }],
  });
  cleanup(() => gw.stop());
  await waitFor(() => gw.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
  return gw;
}

describe('relayed requests across gateway instances', () => {
  it('an answer that lands on another instance reaches the backend, and the call ends on the first', async () => {
    const cluster = `gw-${randomUUID()}`;
    const m = await startHazelcast({ clusterName: cluster });
    cleanup(() => m.stop());
    const [a, b] = [await gateway(cluster, [m.address]), await gateway(cluster, [m.address])];

    const init = await fetch(a.url, {
      method: 'POST',
      headers: MCP_HEADERS,
      body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: { sampling: {} }, clientInfo: { name: 'raw', version: '1' } } }),
    });
    const sid = init.headers.get('mcp-session-id')!;
    await init.text();

    const call = await rawPost(a.url, sid, { jsonrpc: '2.0', id: 'call-1', method: 'tools/call', params: { name: 'summarize', arguments: { topic: 'clusters' } } });
    expect(call.headers.get('content-type')).toContain('text/event-stream');
    const events = decodeSse(call.body as AsyncIterable<Uint8Array>)[Symbol.asyncIterator]();
    const next = async (): Promise<any> => {
      for (;;) {
        const e = await events.next();
        if (e.done) throw new Error('the call stream ended');
        if (e.value.data.trim() !== '') return JSON.parse(e.value.data);
      }
    };
    const asked = await next();
    expect(asked.method).toBe('sampling/createMessage');
    expect(String(asked.id)).toMatch(/^gw-relay-/);

    const answer = await rawPost(b.url, sid, { jsonrpc: '2.0', id: asked.id, result: { model: 'm-b', role: 'assistant', content: { type: 'text', text: 'answered on B' } } });
    expect(answer.status).toBe(202);
    const result = await next();
    expect(result.id).toBe('call-1');
    expect(result.result.content[0].text).toBe('asker got: answered on B (m-b)');

    // The mapping is gone from the shared record: a second answer is dropped.
    expect((await a.core.sessions.current(sid))!.relays).toEqual({});
  }, 60_000);
});
