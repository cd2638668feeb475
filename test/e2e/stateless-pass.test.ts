/**
 * The pass-through for clients of the stateless era (McpBackends.passThrough): a request goes to
 * a real `@modelcontextprotocol/server` 2.4 backend serving only 2026-07-28, and the answer comes
 * back raw: `input_required` with the backend's `requestState`, the backend's own errors, and a
 * closed upstream request when the caller aborts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import pino from 'pino';
import { ANONYMOUS_CALLER } from '../../src/auth/caller.js';
import { backendSchema, type McpBackendConfig } from '../../src/config/schema.js';
import type { JsonRpcMessage } from '../../src/mcp/jsonrpc.js';
import { OutboundCredentials } from '../../src/upstream/credentials.js';
import { Pools } from '../../src/upstream/pool.js';
import { StatelessBackends } from '../../src/upstream/stateless-backend.js';
import { passThrough, type PassThroughCall } from '../../src/upstream/stateless-pass.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { waitFor } from '../support/wait.js';

const dispatcher = new Agent();
let modern: ModernServer;
let backend: McpBackendConfig;
const meta = { clientCapabilities: { elicitation: { form: {} } }, clientInfo: { name: 'modern-client', version: '1' } };

function send(id: number, method: string, params: Record<string, unknown>, abort = new AbortController()): AsyncGenerator<JsonRpcMessage> {
  const opts = { stateless: new StatelessBackends(dispatcher, new Pools(1_000)), credentials: new OutboundCredentials(dispatcher, pino({ level: 'silent' })), defaultTimeoutMs: 10_000 };
  const call: PassThroughCall = { backend, request: { jsonrpc: '2.0', id, method, params }, params, meta, caller: ANONYMOUS_CALLER, abort };
  return passThrough(opts, call);
}

async function answerOf(it: AsyncGenerator<JsonRpcMessage>): Promise<any> {
  let last: JsonRpcMessage | undefined;
  for await (const m of it) last = m;
  return last;
}

beforeAll(async () => {
  modern = await startModernServer();
  backend = backendSchema.parse({ kind: 'mcp', name: 'modern', urls: [modern.url] }) as McpBackendConfig;
});

afterAll(async () => {
  await modern?.close();
  await dispatcher.close();
});

describe('pass-through to a stateless backend', () => {
  it('hands back input_required as it is, and the retry with inputResponses and requestState completes', async () => {
    const first = await answerOf(send(1, 'tools/call', { name: 'sign_up', arguments: {} }));
    expect(first.id).toBe(1);
    expect(first.result).toMatchObject({ resultType: 'input_required', inputRequests: { name: { method: 'elicitation/create' } } });
    const second = await answerOf(send(2, 'tools/call', { name: 'sign_up', arguments: {}, inputResponses: { name: { action: 'accept', content: { name: 'Lin' } } } }));
    expect(second.result).toMatchObject({ resultType: 'input_required', requestState: 'name=Lin' });
    const third = await answerOf(send(3, 'tools/call', { name: 'sign_up', arguments: {}, requestState: second.result.requestState, inputResponses: { confirm: { action: 'accept', content: { ok: true } } } }));
    expect(third).toMatchObject({ id: 3, result: { resultType: 'complete', content: [{ type: 'text', text: 'signed up Lin' }] } });
    // The client's own _meta went upstream, not the gateway's.
    expect(modern.received.at(-1)!.body.params._meta['io.modelcontextprotocol/clientInfo']).toEqual({ name: 'modern-client', version: '1' });
  });

  it("passes the backend's own JSON-RPC error under the client's id", async () => {
    const r = await answerOf(send(4, 'prompts/get', { name: 'nope' }));
    expect(r.id).toBe(4);
    expect(r.error.code).toBe(-32602);
  });

  it('closes the upstream request when the caller aborts, which the backend takes as cancellation', async () => {
    const abort = new AbortController();
    const before = modern.cancelled.length;
    const running = answerOf(send(5, 'tools/call', { name: 'wait', arguments: {} }, abort));
    await waitFor(() => modern.received.some((r) => r.body.id !== undefined && r.body.params?.name === 'wait'), 'the call reached the backend');
    abort.abort();
    expect(await running).toBeUndefined(); // a cancelled call has no answer
    await waitFor(() => modern.cancelled.length > before, 'the backend saw its request closed');
  });
});
