import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { ANONYMOUS, newSessionId, type SessionRecord } from '../../src/session/store.js';
import { raceFirstRequests } from '../support/held-race.js';

const record = (id: string, now: number): SessionRecord => ({ id, principal: ANONYMOUS, protocolVersion: '2025-11-25', clientCapabilities: {}, backendSessions: {}, createdAt: now, lastSeenAt: now });

describe('memory session store', () => {
  it('slides expiry on every use and reports expired sessions', async () => {
    let now = 0;
    const store = new MemorySessionStore(1000, () => now);
    const expired: string[] = [];
    store.onExpired((r) => expired.push(r.id));
    await store.create(record('s', now));
    for (const t of [900, 1800, 2700]) {
      now = t;
      expect(await store.get('s')).toBeDefined();
    }
    now = 3701;
    expect(await store.get('s')).toBeUndefined();
    expect(expired).toEqual(['s']);
    await store.close();
  });

  it('keeps backend sessions and the log level in the record', async () => {
    const store = new MemorySessionStore(1000);
    await store.create(record('s', Date.now()));
    await store.setBackendSession('s', 'notes', { instance: 'http://x', sessionId: 'b1', protocolVersion: '2025-11-25' });
    await store.setLogLevel('s', 'error');
    expect((await store.get('s'))!.backendSessions.notes!.sessionId).toBe('b1');
    expect((await store.get('s'))!.logLevel).toBe('error');
    await store.setBackendSession('s', 'notes', undefined);
    expect((await store.get('s'))!.backendSessions).toEqual({});
    expect((await store.delete('s'))!.id).toBe('s');
    expect(await store.get('s')).toBeUndefined();
    await store.close();
  });

  it('makes session ids of 256 random bits', () => {
    const id = newSessionId();
    expect(Buffer.from(id, 'base64url')).toHaveLength(32);
    expect(newSessionId()).not.toBe(id);
  });
});

describe('memory session store: held records and handoffs', () => {
  it('creates a record only when none is live under its id, and answers with the one it holds', async () => {
    let now = 0;
    const store = new MemorySessionStore(1000, () => now);
    const first = await store.createIfAbsent({ ...record('h', now), clientInfo: { name: 'first' } });
    expect((await store.createIfAbsent({ ...record('h', now), clientInfo: { name: 'second' } })).clientInfo).toEqual({ name: 'first' });
    expect((await store.current('h'))!.clientInfo).toEqual(first.clientInfo);
    // An expired record counts as absent.
    now = 1001;
    expect((await store.createIfAbsent({ ...record('h', now), clientInfo: { name: 'third' } })).clientInfo).toEqual({ name: 'third' });
    await store.close();
  });

  it('keeps the backend session the first of two racing first requests opened', async () => {
    const store = new MemorySessionStore(60_000);
    const { seenBySecond, stored, backendSessionId } = await raceFirstRequests(store, store);
    expect(seenBySecond.backendSessions.notes?.sessionId).toBe(backendSessionId);
    expect(stored!.backendSessions.notes?.sessionId).toBe(backendSessionId);
    await store.close();
  });

  it('tells its listeners of a handed-off message and gives it once to whoever takes it', async () => {
    let now = 0;
    const store = new MemorySessionStore(60_000, () => now);
    const heard: unknown[] = [];
    store.onHandoff((id, key, message) => heard.push([id, key, message]));
    await store.handOff('s', 'gw-relay-1', { answer: 42 }, 1000);
    expect(heard).toEqual([['s', 'gw-relay-1', { answer: 42 }]]);
    expect(await store.takeHandoff('other', 'gw-relay-1')).toBeUndefined();
    expect(await store.takeHandoff('s', 'gw-relay-1')).toEqual({ answer: 42 });
    expect(await store.takeHandoff('s', 'gw-relay-1')).toBeUndefined();
    await store.handOff('s', 'gw-relay-2', { answer: 1 }, 1000);
    now = 1000;
    expect(await store.takeHandoff('s', 'gw-relay-2')).toBeUndefined();
    await store.close();
  });
});

describe('memory session store: sessions per owner', () => {
  it('creates up to the limit per owner, and a deleted session frees its place', async () => {
    const store = new MemorySessionStore(60_000);
    for (const id of ['a1', 'a2']) expect(await store.createWithin(record(id, Date.now()), 'alice', 2)).toBe(true);
    expect(await store.createWithin(record('a3', Date.now()), 'alice', 2)).toBe(false);
    expect(await store.current('a3')).toBeUndefined();
    expect(await store.createWithin(record('b1', Date.now()), 'bob', 2)).toBe(true); // another owner's count
    await store.delete('a1');
    expect(await store.createWithin(record('a3', Date.now()), 'alice', 2)).toBe(true);
    expect(await store.createWithin(record('a4', Date.now()), 'alice', 2)).toBe(false);
    await store.close();
  });

  it('frees the place of a session idle past the TTL before the sweep reaches it, and reports it expired', async () => {
    let now = 0;
    const store = new MemorySessionStore(1000, () => now);
    const expired: string[] = [];
    store.onExpired((r) => expired.push(r.id));
    expect(await store.createWithin(record('idle', now), 'alice', 2)).toBe(true);
    expect(await store.createWithin(record('used', now), 'alice', 2)).toBe(true);
    now = 900;
    await store.get('used');
    now = 1500;
    expect(await store.createWithin(record('new', now), 'alice', 2)).toBe(true);
    expect(expired).toEqual(['idle']);
    expect(await store.createWithin(record('more', now), 'alice', 2)).toBe(false); // `used` still counts
    await store.close();
  });
});
