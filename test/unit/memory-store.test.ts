import { describe, expect, it } from 'vitest';
import { MemorySessionStore } from '../../src/session/memory-store.js';
import { ANONYMOUS, newSessionId, type SessionRecord } from '../../src/session/store.js';

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
