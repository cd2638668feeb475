/**
 * Closing a `subscriptions/listen` stream leaves its resources subscribed at the backend: the held
 * record's backend session is shared by every gateway instance, and a listen stream on another
 * one may still want the same resource, which this process cannot see. The broker's `forward` is
 * recorded (what the gateway would send the backend); the catalog is a real one with no backends.
 */
import { describe, expect, it } from 'vitest';
import { StatelessReplies } from '../../src/broker/stateless.js';
import type { HeldCalls } from '../../src/broker/held-calls.js';
import type { PassedCalls } from '../../src/broker/passed-calls.js';
import type { Reply } from '../../src/broker/reply.js';
import type { Decision } from '../../src/admission/decision.js';
import { Catalog } from '../../src/catalog/catalog.js';
import { createLogger } from '../../src/telemetry/logger.js';

type Forward = Extract<Decision, { kind: 'forward' }>;
type Listen = Extract<Decision, { kind: 'listen' }>;

describe('closing a listen stream', () => {
  it('sends the backend no resources/unsubscribe: another instance may listen on the same held record', async () => {
    const catalog = new Catalog({ source: { start: async (l) => l([]), stop: async () => undefined }, discover: async () => ({ servesResources: false, tools: [], resources: [], resourceTemplates: [], prompts: [] }), separator: '_', pageSize: 100, refreshIntervalMs: 60_000, logger: createLogger('silent') });
    const sent: string[] = [];
    const forward = (d: Forward): Reply => {
      sent.push(`${d.message.method} ${String(d.message.params?.uri)}`);
      return { kind: 'json', status: 200, body: JSON.stringify({ jsonrpc: '2.0', id: d.message.id, result: {} }) };
    };
    // Held and passed calls take no part in listen streams.
    const replies = new StatelessReplies({ serverInfo: { name: 'gw', version: '1' }, cache: { ttlMs: 0, cacheScope: 'private' }, held: {} as HeldCalls, passed: {} as PassedCalls, catalog, forward });
    const session = { id: 'held-1' } as Listen['session'];
    const uri = 'file:///README.md';
    const subscribe = { kind: 'forward', session, message: { jsonrpc: '2.0', id: 's1', method: 'resources/subscribe', params: { uri } }, target: { kind: 'resource', name: uri }, sourceIp: null } as unknown as Forward;
    const reply = await replies.listen({ kind: 'listen', session, message: { jsonrpc: '2.0', id: 'l1', method: 'subscriptions/listen' }, filter: { resourceSubscriptions: [uri] }, subscribe: [subscribe] });
    if (reply.kind !== 'messages') throw new Error(`a stream was expected, got ${reply.kind}`);
    const first = await reply.messages.next();
    expect(first.value).toMatchObject({ method: 'notifications/subscriptions/acknowledged', params: { notifications: { resourceSubscriptions: [uri] } } });
    reply.abort.abort();
    await reply.messages.return(undefined);
    reply.finish();
    await new Promise((r) => setImmediate(r));
    expect(sent).toEqual([`resources/subscribe ${uri}`]);
  });
});
