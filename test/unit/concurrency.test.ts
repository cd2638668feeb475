/**
 * A backend's cap on calls open at once (src/upstream/concurrency.ts): a slot is held from a call's
 * start to its end, whichever way it ends, and given back exactly once.
 */
import { describe, expect, it } from 'vitest';
import { backendSchema } from '../../src/config/schema.js';
import type { JsonRpcMessage } from '../../src/mcp/jsonrpc.js';
import type { UpstreamCall } from '../../src/upstream/call.js';
import { ConcurrencyCaps } from '../../src/upstream/concurrency.js';

const backend = (maxConcurrentCalls?: number) => backendSchema.parse({ name: 'legacy', kind: 'mcp', urls: ['http://127.0.0.1:1/mcp'], ...(maxConcurrentCalls ? { maxConcurrentCalls } : {}) });

/** `cap` null: a backend without one. */
function callOf(id: number, method = 'tools/call', cap: number | null = 1): UpstreamCall {
  return { backend: backend(cap ?? undefined), request: { jsonrpc: '2.0', id, method, params: {} }, arguments: {}, abort: new AbortController() } as unknown as UpstreamCall;
}

/** An executor whose calls send a progress notification, then wait for `finish` to answer or fail. */
function gatedExecutor() {
  let finish!: (how: 'answer' | 'fail') => void;
  const finished = new Promise<'answer' | 'fail'>((r) => (finish = r));
  const execute = async function* (call: UpstreamCall): AsyncGenerator<JsonRpcMessage> {
    yield { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: 1, progress: 1 } };
    if ((await finished) === 'fail') throw new Error('backend connection lost');
    yield { jsonrpc: '2.0', id: call.request.id, result: { content: [] } };
  };
  return { execute, finish: (how: 'answer' | 'fail') => finish(how) };
}

const BUSY = { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_BUSY' };

describe('ConcurrencyCaps', () => {
  it('lets cap calls run together and refuses the next at once as a tool error, without running it', async () => {
    const caps = new ConcurrencyCaps();
    const gate = gatedExecutor();
    let ran = 0;
    const limited = caps.limit((c: UpstreamCall) => (ran++, gate.execute(c)));
    const a = limited(callOf(1, 'tools/call', 2));
    const b = limited(callOf(2, 'tools/call', 2));
    await a.next();
    await b.next();
    expect(caps.openCalls('legacy')).toBe(2);
    const refused = await limited(callOf(3, 'tools/call', 2)).next();
    expect(refused.value).toMatchObject({ id: 3, result: { isError: true, _meta: BUSY } });
    expect((refused.value as any).result.content[0].text).toContain('backend "legacy" has 2 calls open (its maxConcurrentCalls)');
    expect(ran).toBe(2);
    gate.finish('answer');
    for await (const _ of a);
    for await (const _ of b);
    expect(caps.openCalls('legacy')).toBe(0);
  });

  it('refuses a routed request (resources/read, prompts/get) with a JSON-RPC error carrying the code', async () => {
    const caps = new ConcurrencyCaps();
    const gate = gatedExecutor();
    const limited = caps.limit(gate.execute);
    await limited(callOf(1, 'resources/read')).next();
    const refused = await limited(callOf(2, 'resources/read')).next();
    expect(refused.value).toMatchObject({ id: 2, error: { code: -32603, data: { code: 'GW_UPSTREAM_BUSY' } } });
  });

  it('gives the slot back when the call fails, and when its reader stops early (return: a cancelled or cut call)', async () => {
    const caps = new ConcurrencyCaps();
    const failing = gatedExecutor();
    const limited = caps.limit(failing.execute);
    const a = limited(callOf(1));
    await a.next();
    failing.finish('fail');
    await expect(a.next()).rejects.toThrow('backend connection lost');
    expect(caps.openCalls('legacy')).toBe(0);

    const b = caps.limit(gatedExecutor().execute)(callOf(2));
    await b.next();
    expect(caps.openCalls('legacy')).toBe(1);
    await b.return(undefined);
    expect(caps.openCalls('legacy')).toBe(0);
    expect((await caps.limit(gatedExecutor().execute)(callOf(3)).next()).value).toMatchObject({ method: 'notifications/progress' });
  });

  it('holds nothing for a call never started, nor for a refused one, and counts each backend apart', async () => {
    const caps = new ConcurrencyCaps();
    const limited = caps.limit(gatedExecutor().execute);
    limited(callOf(1));
    expect(caps.openCalls('legacy')).toBe(0);
    const running = limited(callOf(2));
    await running.next();
    await limited(callOf(3)).next();
    await running.return(undefined);
    expect(caps.openCalls('legacy')).toBe(0);
    const other = { ...callOf(4), backend: { ...backend(1), name: 'other' } } as UpstreamCall;
    await limited(callOf(5)).next();
    expect((await limited(other).next()).value).toMatchObject({ method: 'notifications/progress' });
    expect(caps.openCalls('other')).toBe(1);
  });

  it('gives a slot back once however often its release is called', () => {
    const caps = new ConcurrencyCaps();
    const release = caps.take('legacy', 2)!;
    caps.take('legacy', 2);
    release();
    release();
    expect(caps.openCalls('legacy')).toBe(1);
  });

  it('runs the calls of a backend without a cap as they are', () => {
    const caps = new ConcurrencyCaps();
    const gate = gatedExecutor();
    const own = gate.execute(callOf(1, 'tools/call', null));
    const limited = caps.limit((c: UpstreamCall) => (c.request.id === 1 ? own : gate.execute(c)));
    expect(limited(callOf(1, 'tools/call', null))).toBe(own);
  });
});
