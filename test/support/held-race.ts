import { randomUUID } from 'node:crypto';
import { heldSession } from '../../src/session/held.js';
import { ANONYMOUS, type SessionRecord, type SessionStore } from '../../src/session/store.js';

const META = { protocolVersion: '2026-07-28', clientCapabilities: { sampling: {} } };
const NOTES = { instance: 'http://notes.invalid/mcp', sessionId: 'opened-by-the-first', protocolVersion: '2025-11-25' };

/**
 * Two first requests of one stateless caller, interleaved the unlucky way: the second reads "no
 * held record" (through `second`), then the first creates the record and opens a backend session
 * in it (through `first`), and only then does the second create its record. What the second sees,
 * and what the store holds afterwards, must both still name the first's backend session.
 */
export async function raceFirstRequests(first: SessionStore, second: SessionStore): Promise<{ seenBySecond: SessionRecord; stored: SessionRecord | undefined; backendSessionId: string }> {
  const id = `held-race-${randomUUID()}`;
  let read!: () => void;
  let open!: () => void;
  const hasRead = new Promise<void>((r) => (read = r));
  const gate = new Promise<void>((r) => (open = r));
  const late = heldSession(lagging(second, read, gate), id, ANONYMOUS, META);
  await hasRead;
  await heldSession(first, id, ANONYMOUS, META);
  await first.setBackendSession(id, 'notes', NOTES);
  open();
  const seenBySecond = await late;
  return { seenBySecond, stored: await first.current(id), backendSessionId: NOTES.sessionId };
}

/** The store, except that `get` tells when it has read and answers only once `gate` opens. */
function lagging(store: SessionStore, read: () => void, gate: Promise<void>): SessionStore {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === 'get') {
        return async (id: string) => {
          const r = await target.get(id);
          read();
          await gate;
          return r;
        };
      }
      const v = Reflect.get(target, prop, target) as unknown;
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
}
