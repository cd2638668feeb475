/**
 * `requestState` of the stateless era's multi-round-trip requests (MRTR), as the gateway hands it
 * out when a backend's request during a call becomes the client's `input_required`: it names the
 * held call (the event stream the call writes, and how far the client has read it) and the
 * pending relays the client must answer; or, for a stateless-era backend's own `input_required`
 * passed through, it carries that backend's `requestState`. It travels through the client, so it is sealed with
 * AES-256-GCM (tamper-proof and unreadable) and bound to the caller, the request (method and
 * name) and a short expiry. It is good once: the relays it names are taken from the session
 * store atomically when the answers are delivered, so a replay finds them gone.
 */
import { MAX_SEALED_CHARS, seal, unseal } from './sealed.js';
import { samePrincipal, type Principal } from './store.js';

/** A call held for the client's input, as the sealed state names it. */
export interface HeldRound {
  /** Absent in states sealed before passed rounds existed. */
  readonly kind?: 'held';
  readonly principal: Principal;
  readonly method: string;
  /** The tool or prompt name, or the resource URI, as the client named it. */
  readonly name: string;
  /** The gateway-held session record whose relays these are. */
  readonly session: string;
  /** The event stream the held call writes, and the last event the client has had of it. */
  readonly stream: string;
  readonly seq: number;
  /** Relays the client must answer (the keys of `inputRequests`). */
  readonly relays: readonly string[];
  /** Relays answered in an earlier round, passed over when the stream is read again. */
  readonly skip: readonly string[];
  readonly expiresAt: number;
}

/**
 * A stateless-era backend's `input_required`, passed through: nothing is held, the backend's own
 * `requestState` rides inside the gateway's (the client never sees or alters it), and the retry
 * goes to the same backend with it.
 */
export interface PassedRound {
  readonly kind: 'passed';
  readonly principal: Principal;
  readonly method: string;
  /** The tool or prompt name, or the resource URI, as the client named it. */
  readonly name: string;
  /** The backend that asked: a retry routed elsewhere (the catalog changed) is refused. */
  readonly backend: string;
  /** The backend's `requestState`, when it gave one. */
  readonly state?: string;
  readonly expiresAt: number;
}

/** What a sealed `requestState` stands for. */
export type SealedRound = HeldRound | PassedRound;

/** The longest `requestState` a client may bring back (a backend's own state must fit in it, sealed). */
export const MAX_REQUEST_STATE_CHARS = MAX_SEALED_CHARS;
const AAD = Buffer.from('mcp-gateway requestState v1');

/** Seal a round for the client to echo back. */
export function sealRound(key: Buffer, round: SealedRound): string {
  return seal(key, AAD, round);
}

/** What the request that echoes a state must be: the same caller and the same request. */
export interface RoundBinding {
  readonly principal: Principal;
  readonly method: string;
  readonly name: string;
}

/** The round a state stands for, or why it is refused (forged, altered, expired, another caller's or another request's). */
export function openRound(key: Buffer, state: unknown, binding: RoundBinding, now = Date.now()): { ok: true; round: SealedRound } | { ok: false; detail: string } {
  const opened = unseal<SealedRound>(key, AAD, state);
  if (!opened.ok) return opened;
  const round = opened.value;
  // One answer for another caller's state and a forged one: nothing is learnt by probing.
  if (!samePrincipal(round.principal, binding.principal)) return { ok: false, detail: 'not a requestState this gateway issued (or it was altered)' };
  if (round.expiresAt <= now) return { ok: false, detail: 'the requestState expired; send the request again without it' };
  if (round.method !== binding.method || round.name !== binding.name) return { ok: false, detail: `the requestState belongs to another request (${round.method} "${round.name}")` };
  return { ok: true, round };
}
