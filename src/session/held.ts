/**
 * Gateway-held session records: what stands for a session when the client has none. A stateless
 * (2026-07-28) client sends everything with every request, but session-era backends still need
 * a session: the gateway opens and keeps those itself, in one record per caller (issuer and
 * subject) and set of relayed capabilities (a backend offers and asks according to what the
 * session declared at initialize), stored like any session so every instance finds the same
 * backend sessions and pending relays. Each request then sees that record with its own `_meta`
 * (capabilities, client info, log level) laid over it.
 */
import { createHmac } from 'node:crypto';
import { memoize } from '../memo.js';
import { relayedCapabilities } from '../mcp/client-capabilities.js';
import { STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import type { RequestMeta } from '../mcp/request-meta.js';
import { newSessionRecord, type Principal, type SessionRecord, type SessionStore } from './store.js';

/** Ids of held records start with this; no `initialize` ever hands one out. */
const HELD_PREFIX = 'held-';

/** Whether a session id names a gateway-held record (never usable as a client's `Mcp-Session-Id`). */
export function isHeldSessionId(id: string): boolean {
  return id.startsWith(HELD_PREFIX);
}

/**
 * The id of a caller's held record: a keyed digest, so it is stable across instances sharing the
 * key and cannot be computed (or guessed) by anyone else.
 */
export function heldSessionId(key: Buffer, principal: Principal, capabilities: Readonly<Record<string, unknown>>): string {
  let idOf = heldIds.get(key);
  if (!idOf) heldIds.set(key, (idOf = memoize((input) => `${HELD_PREFIX}${createHmac('sha256', key).update(input).digest('base64url')}`)));
  return idOf(`${principal.issuer ?? ''}\u0000${principal.subject}\u0000${canonicalJson(relayedCapabilities(capabilities))}`);
}

/** Every stateless request of a caller names its record again: the digests are kept, per key. */
const heldIds = new WeakMap<Buffer, (input: string) => string>();

/** The caller's held record (created on first use), as this request sees it: its own `_meta` over the record. */
export async function heldSession(store: SessionStore, id: string, principal: Principal, meta: RequestMeta): Promise<SessionRecord> {
  // Two first requests of a caller may both find no record: the store keeps whichever came first, so neither loses the backend sessions the other opens.
  const record = (await store.get(id)) ?? (await store.createIfAbsent({ ...newSessionRecord(principal, STATELESS_PROTOCOL_VERSION, { capabilities: meta.clientCapabilities }), id }));
  const { clientInfo: _info, logLevel: _level, ...rest } = record;
  return { ...rest, protocolVersion: meta.protocolVersion, clientCapabilities: meta.clientCapabilities, ...(meta.clientInfo ? { clientInfo: meta.clientInfo } : {}), ...(meta.logLevel ? { logLevel: meta.logLevel } : {}) };
}

/** JSON with object keys sorted, so equal capabilities name the same record whatever their key order. */
function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
