import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { StreamDelivery } from '../../src/broker/stream-delivery.js';
import { StreamHub } from '../../src/broker/streams.js';
import { EventLog } from '../../src/events/log.js';
import { MemoryEventStore } from '../../src/events/memory-store.js';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { newSessionId } from '../../src/session/store.js';

const updated = { jsonrpc: '2.0' as const, method: 'notifications/resources/updated', params: { uri: 'mcpgw://lib/file:///README.md' } };

/** One gateway with the memory session store: nothing is handed off, as before shared stores. */
function oneGateway(): { hub: StreamHub; delivery: StreamDelivery; handedOff: string[] } {
  const hub = new StreamHub(new EventLog(new MemoryEventStore(60_000), { maxEventsPerStream: 100, maxBytesPerStream: 1_000_000, maxAgeMs: 60_000, retryMs: 500 }));
  const sessions = new MemorySessionStore(60_000);
  const handedOff: string[] = [];
  sessions.onHandoff((_id, key) => void handedOff.push(key));
  return { hub, delivery: new StreamDelivery({ hub, sessions, claimMs: 1_000, logger: pino({ level: 'silent' }) }), handedOff };
}

describe('messages for a GET stream on one gateway (memory sessions)', () => {
  it("reach the session's stream on this process", () => {
    const { hub, delivery } = oneGateway();
    const session = newSessionId();
    const stream = hub.open(session);
    let undelivered = 0;
    delivery.send(session, updated, () => void undelivered++);
    expect(stream.writer.window.events.map((e) => JSON.parse(e.data))).toEqual([updated]);
    expect(undelivered).toBe(0);
  });

  it('with no stream, are undelivered at once and handed to no other instance', () => {
    const { hub, delivery, handedOff } = oneGateway();
    const session = newSessionId();
    hub.open(newSessionId());
    let undelivered = 0;
    delivery.send(session, updated, () => void undelivered++);
    expect(undelivered).toBe(1);
    expect(handedOff).toEqual([]);
  });
});
