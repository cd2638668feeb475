import { describe, expect, it } from 'vitest';
import { StreamHub } from '../../src/broker/streams.js';
import { eventId, newStreamId, parseEventId } from '../../src/events/event-id.js';
import { EventLog } from '../../src/events/log.js';
import { MemoryEventStore } from '../../src/events/memory-store.js';
import { newSessionId } from '../../src/session/store.js';

const bounds = { maxEventsPerStream: 1000, maxBytesPerStream: 1_000_000, maxAgeMs: 60_000, retryMs: 500 };

function logWith(over: Partial<typeof bounds> = {}, clock = { now: 0 }): EventLog {
  const opts = { ...bounds, ...over };
  return new EventLog(new MemoryEventStore(opts.maxAgeMs, () => clock.now), opts, () => clock.now);
}

async function collect(gen: AsyncIterable<{ id: string; data: string }>): Promise<Array<{ id: string; data: string }>> {
  const out: Array<{ id: string; data: string }> = [];
  for await (const e of gen) out.push({ id: e.id, data: e.data });
  return out;
}

describe('event ids', () => {
  it('name the stream and the position, and read back', () => {
    const stream = newStreamId();
    expect(Buffer.from(stream, 'base64url')).toHaveLength(16);
    expect(parseEventId(eventId(stream, 42))).toEqual({ stream, seq: 42 });
    expect(newStreamId()).not.toBe(stream);
  });

  it('refuse anything the gateway did not issue', () => {
    const stream = newStreamId();
    for (const bad of [undefined, '', '42', stream, `${stream}.`, `${stream}.x`, `${stream}.-1`, `${stream}.1.2`, `${stream.slice(1)}.1`, `${stream}.1\nid: x`, `${stream}.1234567890123456`]) {
      expect(parseEventId(bad), String(bad)).toBeUndefined();
    }
  });
});

describe('stream bounds', () => {
  it('keeps the newest events up to the count bound', () => {
    const w = logWith({ maxEventsPerStream: 3 }).open('s', 'call');
    for (let i = 1; i <= 5; i++) w.append(`e${i}`);
    expect(w.window.events.map((e) => e.data)).toEqual(['e3', 'e4', 'e5']);
    expect(w.window.bytes).toBe(6);
  });

  it('keeps the newest events up to the byte bound, and always the newest one', () => {
    const w = logWith({ maxBytesPerStream: 10 }).open('s', 'call');
    w.append('aaaa');
    w.append('bbbb');
    w.append('cccc');
    expect(w.window.events.map((e) => e.data)).toEqual(['bbbb', 'cccc']);
    w.append('x'.repeat(50));
    expect(w.window.events.map((e) => e.data)).toEqual(['x'.repeat(50)]);
  });

  it('drops events older than the age bound, and forgets idle streams', async () => {
    const clock = { now: 0 };
    const log = logWith({ maxAgeMs: 1000 }, clock);
    const w = log.open('s', 'session');
    w.append('old');
    clock.now = 1500;
    w.append('new');
    expect(w.window.events.map((e) => e.data)).toEqual(['new']);
    w.end();
    clock.now = 2400;
    expect(await log.store.load(w.id)).toBeDefined();
    clock.now = 2600;
    expect(await log.store.load(w.id)).toBeUndefined();
  });

  it('forgets the least recently written streams beyond the memory store’s total bound', async () => {
    const store = new MemoryEventStore(60_000, Date.now, 10);
    const log = new EventLog(store, bounds);
    const [a, b, c] = [log.open('s', 'call'), log.open('s', 'call'), log.open('s', 'call')];
    a.append('aaaa');
    b.append('bbbb');
    a.append('a'); // a is now the most recently written
    c.append('cccc');
    expect(await store.load(b.id)).toBeUndefined();
    expect(await store.load(a.id)).toBeDefined();
    expect(await store.load(c.id)).toBeDefined();
    expect(store.size).toEqual({ streams: 2, bytes: 9 });
  });

  it('keeps an idle stream that is touched', async () => {
    const clock = { now: 0 };
    const store = new MemoryEventStore(1000, () => clock.now);
    const log = new EventLog(store, { ...bounds, maxAgeMs: 1000 }, () => clock.now);
    const w = log.open('s', 'session');
    w.append('');
    for (const t of [300, 600, 900, 1200, 1500]) {
      clock.now = t;
      w.touch();
    }
    expect(await store.load(w.id)).toBeDefined();
  });
});

describe('resuming', () => {
  it('replays exactly the events after the cursor, then new ones, until the stream ends', async () => {
    const log = logWith();
    const session = newSessionId();
    const w = log.open(session, 'call');
    w.append(''); // priming
    const first = w.append('one');
    w.append('two');
    const point = await log.find(session, first);
    expect(point).toEqual({ cursor: parseEventId(first), kind: 'call' });
    const done = collect(log.follow(point!, new AbortController().signal));
    w.append('three');
    w.end();
    expect((await done).map((e) => e.data)).toEqual(['two', 'three']);
    expect((await done).map((e) => e.id)).toEqual([eventId(w.id, 3), eventId(w.id, 4)]);
  });

  it('does not resume another session’s stream, an unknown one, or a malformed id', async () => {
    const log = logWith();
    const owner = newSessionId();
    const w = log.open(owner, 'session');
    const id = w.append('secret');
    expect(await log.find(newSessionId(), id)).toBeUndefined();
    expect(await log.find(owner, eventId(newStreamId(), 1))).toBeUndefined();
    expect(await log.find(owner, 'garbage')).toBeUndefined();
    expect(await log.find(owner, id)).toBeDefined();
  });

  it('does not resume when events after the cursor were dropped, or the client has an ended stream whole', async () => {
    const log = logWith({ maxEventsPerStream: 2 });
    const session = newSessionId();
    const w = log.open(session, 'call');
    const first = w.append('1');
    const second = w.append('2');
    w.append('3');
    w.append('4');
    expect(await log.find(session, first)).toBeUndefined(); // 2 is gone
    expect(await log.find(session, second)).toBeDefined(); // 3 and 4 are kept
    const last = w.append('5');
    w.end();
    expect(await log.find(session, last)).toBeUndefined();
  });

  it('stops following when the signal aborts', async () => {
    const log = logWith();
    const session = newSessionId();
    const w = log.open(session, 'session');
    const abort = new AbortController();
    const done = collect(log.follow({ cursor: { stream: w.id, seq: 0 }, kind: 'session' }, abort.signal));
    w.append('a');
    await new Promise((r) => setTimeout(r, 10));
    abort.abort();
    expect((await done).map((e) => e.data)).toEqual(['a']);
  });
});

describe('session streams', () => {
  it('record server messages while disconnected, on the newest stream only', () => {
    const hub = new StreamHub(logWith());
    const session = newSessionId();
    const older = hub.open(session);
    const newer = hub.open(session);
    expect(hub.count).toBe(2);
    hub.detach(newer);
    expect(hub.count).toBe(1);
    hub.broadcast({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect(newer.writer.window.events.map((e) => e.data)).toEqual(['{"jsonrpc":"2.0","method":"notifications/tools/list_changed"}']);
    expect(older.writer.window.events).toEqual([]);
    expect(hub.find(session, newer.writer.id)).toBe(newer);
    hub.attach(newer);
    expect(hub.count).toBe(2);
  });

  it('end the detached streams a fresh stream replaces, and all of them when the session ends', () => {
    const hub = new StreamHub(logWith());
    const session = newSessionId();
    const dropped = hub.open(session);
    hub.detach(dropped);
    const fresh = hub.open(session);
    expect(dropped.writer.window.ended).toBe(true);
    expect(hub.find(session, dropped.writer.id)).toBeUndefined();
    hub.closeSession(session);
    expect(fresh.writer.window.ended).toBe(true);
  });
});
