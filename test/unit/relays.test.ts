import pino from 'pino';
import { Agent } from 'undici';
import { describe, expect, it } from 'vitest';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import type { JsonRpcResponse } from '../../src/mcp/jsonrpc.js';
import { AllowAllPolicy } from '../../src/policy/engine.js';
import { ClientRelay, type RelayOrigin } from '../../src/upstream/client-relay.js';
import { OutboundCredentials } from '../../src/upstream/credentials.js';
import { configSchema } from '../../src/config/schema.js';
import { policySubject, relayPart } from '../../src/policy/input.js';
import { RulesPolicy } from '../../src/policy/rules.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { ANONYMOUS, newSessionRecord, withRelay, type PendingRelay } from '../../src/session/store.js';

const pending = (at: number, timeoutMs = 1_000): PendingRelay => ({
  backend: 'b',
  backendId: 7,
  method: 'sampling/createMessage',
  via: { instance: 'http://b/mcp', sessionId: 's', protocolVersion: '2025-11-25' },
  tool: null,
  askedAt: at,
  expiresAt: at + timeoutMs,
});

describe('pending relays in the session record', () => {
  it('each is taken once: of an answer, a cancellation and a timeout, only one gets it', async () => {
    const store = new MemorySessionStore(60_000);
    const record = newSessionRecord(ANONYMOUS, '2025-11-25');
    await store.create(record);
    await store.addRelay(record.id, 'r1', pending(Date.now()));
    const [a, b] = await Promise.all([store.takeRelay(record.id, 'r1'), store.takeRelay(record.id, 'r1')]);
    expect([a, b].filter(Boolean)).toHaveLength(1);
    expect(await store.takeRelay('no-such-session', 'r1')).toBeUndefined();
    await store.close();
  });

  it('ones long past their expiry (their instance went away) are dropped when the record changes', () => {
    const now = 10_000_000;
    let r = newSessionRecord(ANONYMOUS, '2025-11-25');
    r = withRelay(r, 'old', pending(now - 120_000), now);
    r = withRelay(r, 'late', pending(now - 2_000), now); // expired, but within the grace its timer needs
    r = withRelay(r, 'new', pending(now), now + 1);
    expect(Object.keys(r.relays ?? {}).sort()).toEqual(['late', 'new']);
  });
});

describe('built-in rules on relayed requests', () => {
  const subject = policySubject({ principal: ANONYMOUS, roles: [], scopes: [], claims: {} }, null, null);
  const rules = (list: unknown[]) => new RulesPolicy(configSchema.parse({ policy: { engine: 'rules', rules: list } }).policy as never);

  it('allows a relay no rule names, so rules written before relaying keep their meaning', async () => {
    const p = rules([{ tools: ['*'], allow: 'anyone' }]);
    expect((await p.decide({ ...subject, ...relayPart('b', 'sampling/createMessage', 'b_t', null) })).allow).toBe(true);
  });

  it('refuses a relay a rule names for nobody, with the reason', async () => {
    const p = rules([{ relays: ['sampling/*'], allow: 'nobody' }, { tools: ['*'], allow: 'anyone' }]);
    const d = await p.decide({ ...subject, ...relayPart('b', 'sampling/createMessage', 'b_t', null) });
    expect(d).toEqual({ allow: false, reason: 'relay "sampling/createMessage" is disabled' });
    expect((await p.decide({ ...subject, ...relayPart('b', 'roots/list', null, null) })).allow).toBe(true);
  });
});

describe('answers collected by the instance running the call', () => {
  /** One gateway instance's relay over a store every instance shares. */
  const instance = (store: MemorySessionStore, dispatcher: Agent): ClientRelay => {
    const logger = pino({ level: 'silent' });
    return new ClientRelay({ sessions: store, dispatcher, credentials: new OutboundCredentials(dispatcher, logger), policy: new AllowAllPolicy(), backends: () => new Map(), logger });
  };

  it('an answer to a stateless backend input request landing on another instance reaches the call loop, once', async () => {
    const store = new MemorySessionStore(60_000);
    const dispatcher = new Agent();
    const [a, b] = [instance(store, dispatcher), instance(store, dispatcher)];
    const session = { ...newSessionRecord(ANONYMOUS, '2025-11-25', { capabilities: { sampling: {} } }) };
    await store.create(session);
    const collected: JsonRpcResponse[] = [];
    const origin: RelayOrigin = {
      session,
      backend: { name: 'modern' } as BackendDescriptor,
      via: { instance: 'http://modern/mcp', sessionId: null, protocolVersion: '2026-07-28' },
      endpoint: { url: 'http://modern/mcp', sessionId: null, protocolVersion: '2026-07-28', headers: {} },
      timeoutMs: 60_000,
      answer: (r) => collected.push(r),
    };
    const asked = await a.toClient(origin, { jsonrpc: '2.0', id: 'summary', method: 'sampling/createMessage', params: { messages: [], maxTokens: 5 } });
    const reply: JsonRpcResponse = { jsonrpc: '2.0', id: asked!.id, result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'hi' } } };
    expect(await b.fromClient(session, reply, undefined)).toBe(true);
    expect(collected).toEqual([{ jsonrpc: '2.0', id: 'summary', result: reply.result }]);
    // Taken by the instance that used it, and the relay is spent: a second answer is dropped.
    expect(await store.takeHandoff(session.id, String(asked!.id))).toBeUndefined();
    expect(await b.fromClient(session, reply, undefined)).toBe(false);
    expect(collected).toHaveLength(1);
    await store.close();
    await dispatcher.close();
  });
});
