/**
 * The broadcast of held records' resource updates to other instances' listen streams, at the store
 * port: with one gateway (memory sessions) nothing leaves the process; with a shared store every
 * other instance delivers each update once, even when the store announces it again (as Hazelcast
 * does for kept entries after a reconnect, which a test cannot provoke on a real member at will).
 * Two instances sharing one store are two ListenFanouts on one memory store marked shared: its
 * handoff events reach every listener, as the Hazelcast store's do (test/integration/hazelcast-listen.test.ts runs the real one).
 */
import { describe, expect, it } from 'vitest';
import { ListenFanout } from '../../src/broker/listen-fanout.js';
import type { JsonRpcNotification } from '../../src/mcp/jsonrpc.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import type { Handoff } from '../../src/session/store.js';
import { createLogger } from '../../src/telemetry/logger.js';

const updated: JsonRpcNotification = { jsonrpc: '2.0', method: 'notifications/resources/updated', params: { uri: 'mcpgw://lib/file:///README.md' } };
const logger = createLogger('silent');

class SharedMemoryStore extends MemorySessionStore {
  readonly shared = true;
}

/** An instance's fan-out whose listen streams take every update, recording them. */
function instance(sessions: MemorySessionStore): { fanout: ListenFanout; got: Array<[string, JsonRpcNotification]> } {
  const fanout = new ListenFanout({ sessions, ttlMs: 1_000, logger });
  const got: Array<[string, JsonRpcNotification]> = [];
  fanout.onUpdate((held, message) => (got.push([held, message]), true));
  return { fanout, got };
}

describe('resource updates for listen streams on other instances', () => {
  it('are not handed off on one gateway with memory sessions', () => {
    const sessions = new MemorySessionStore(60_000);
    const handedOff: string[] = [];
    sessions.onHandoff((_id, key) => void handedOff.push(key));
    const { fanout, got } = instance(sessions);
    fanout.publish('held-1', updated);
    expect(handedOff).toEqual([]);
    expect(got).toEqual([]);
  });

  it('reach every other instance once, not the one that published, even when announced again', async () => {
    const sessions = new SharedMemoryStore(60_000);
    const announced: Array<[string, string, Handoff]> = [];
    sessions.onHandoff((id, key, h) => void announced.push([id, key, h]));
    const [a, b, c] = [instance(sessions), instance(sessions), instance(sessions)];
    a.fanout.publish('held-1', updated);
    await new Promise((r) => setImmediate(r));
    expect(a.got).toEqual([]);
    expect(b.got).toEqual([['held-1', updated]]);
    expect(c.got).toEqual([['held-1', updated]]);
    // The store tells every listener of what it still keeps again (a reconnect): nobody delivers it twice.
    for (const [id, key, h] of [...announced]) await sessions.handOff(id, key, h, 1_000);
    expect(b.got).toHaveLength(1);
    expect(c.got).toHaveLength(1);
  });
});
