/**
 * The failing answers of routed calls shown apart (envoy.yaml's `mcp.failed_answers`): two
 * "replicas" sharing one session store, as gateway replicas share Hazelcast. Whichever replica gets
 * the failing answer, the client gets the same tool error and the call's own replica learns of it.
 */
import { describe, expect, it } from 'vitest';
import { FailedAnswers, replacesAnswer, routedFailureAnswer, type FailureFacts, type WatchedCall } from '../../src/upstream/direct-failures.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { waitFor } from '../support/wait.js';

const facts: FailureFacts = { requestId: 7, backend: 'notes', budgetMs: 30_000, pinned: true, stateless: false };

/** A routed call that records what it was told. */
function call(id: string): WatchedCall & { settled: Array<number | undefined>; learnt: Array<number | undefined>; abandoned: number } {
  const c = {
    id,
    settled: [] as Array<number | undefined>,
    learnt: [] as Array<number | undefined>,
    abandoned: 0,
    settle: async (status: number | undefined) => (c.settled.push(status), routedFailureAnswer(facts, status)),
    learnLate: async (status: number | undefined) => void c.learnt.push(status),
    abandon: () => void c.abandoned++,
  };
  return c;
}

describe('failing answers shown apart', () => {
  it("is settled by the call's own replica", async () => {
    const owner = new FailedAnswers(new MemorySessionStore(60_000));
    const c = call('a');
    owner.watch(c);
    const answer = await owner.answer('a', 404, false, facts);
    expect(c.settled).toEqual([404]);
    expect(answer).toMatchObject({ id: 7, result: { isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_SESSION_LOST' } } });
  });

  it('is answered by another replica from what the answer carries, and handed to the call\'s replica, which settles it', async () => {
    const store = new MemorySessionStore(60_000);
    const owner = new FailedAnswers(store);
    const other = new FailedAnswers(store);
    const c = call('b');
    owner.watch(c);
    const answer = await other.answer('b', 502, false, facts);
    expect(answer).toEqual(routedFailureAnswer(facts, 502));
    expect(JSON.stringify(answer)).toContain('HTTP 502 from backend \\"notes\\"');
    await waitFor(() => c.settled.length === 1, 'the owner to settle the call');
    expect(c.settled).toEqual([502]);
  });

  it('still teaches the call\'s replica when the call was already recorded as answered', async () => {
    const store = new MemorySessionStore(60_000);
    const owner = new FailedAnswers(store);
    const other = new FailedAnswers(store);
    const c = call('c');
    owner.watch(c);
    owner.forget(c);
    await other.answer('c', 404, false, facts);
    await waitFor(() => c.learnt.length === 1, 'the owner to learn of the lost session');
    expect(c.learnt).toEqual([404]);
    expect(c.settled).toEqual([]);
  });

  it("lets a rate limiter's refusal through: the call's replica records it unanswered, another leaves it alone", async () => {
    const store = new MemorySessionStore(60_000);
    const owner = new FailedAnswers(store);
    const c = call('d');
    owner.watch(c);
    expect(await owner.answer('d', 429, true, facts)).toBeUndefined();
    expect(c.abandoned).toBe(1);
    expect(await new FailedAnswers(store).answer('e', 429, true, facts)).toBeUndefined();
  });

  it('lets an answer through that names no call and carries nothing to answer with', async () => {
    expect(await new FailedAnswers(new MemorySessionStore(60_000)).answer('nobody', 500, false, undefined)).toBeUndefined();
  });

  it("answers a 2026-07-28 client's failed call in that era's result shape, with the gateway's serverInfo", () => {
    const server = { name: 'mcp-gateway', version: '1.2.3' };
    const answer = routedFailureAnswer({ ...facts, stateless: true, pinned: false }, 503, server) as { result: Record<string, any> };
    expect(answer.result).toMatchObject({ resultType: 'complete', isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_UNAVAILABLE', 'io.modelcontextprotocol/serverInfo': server } });
    expect(answer.result.content[0].text).toContain('HTTP 503 from backend "notes"');
    expect((routedFailureAnswer(facts, 503, server) as { result: Record<string, unknown> }).result.resultType).toBeUndefined();
  });

  it("passes a 2026-07-28 backend's 4xx on as the backend wrote it (its JSON-RPC error is the client's to read)", async () => {
    expect(replacesAnswer({ stateless: true }, 400)).toBe(false);
    expect(replacesAnswer({ stateless: true }, 503)).toBe(true);
    expect(replacesAnswer({ stateless: false }, 400)).toBe(true);
    const store = new MemorySessionStore(60_000);
    const owner = new FailedAnswers(store);
    const c = call('s4');
    owner.watch(c);
    expect(await new FailedAnswers(store).answer('s4', 400, false, { ...facts, stateless: true })).toBeUndefined();
    await waitFor(() => c.settled.length === 1, "the owner to record the call");
  });
});
