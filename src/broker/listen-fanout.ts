import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { JsonRpcNotification } from '../mcp/jsonrpc.js';
import type { SessionStore } from '../session/store.js';
import { sessionRef } from '../telemetry/audit.js';

/** Handoff keys of resource updates for listen streams (never a GET stream's, a relay's or a held call's key). */
const KEY_PREFIX = 'listen-update:';

/** How many fanned-out updates an instance remembers having delivered (so a replay after a reconnect delivers none twice). */
const MAX_REMEMBERED = 10_000;

export interface ListenFanoutOptions {
  readonly sessions: SessionStore;
  /**
   * How long an update stays in the shared store: instances hear it at once, and one whose
   * cluster connection dropped and came back within this time reads it again.
   */
  readonly ttlMs: number;
  readonly logger: Logger;
}

/**
 * Carries a held record's resource updates to the `subscriptions/listen` streams on every gateway
 * instance. A session-era backend sends each update on ONE stream of its session, which ONE
 * instance follows; every listen stream of that caller that asked for the URI must still get it
 * (each is a subscription of its own), so unlike a GET stream's handoff (src/broker/stream-delivery.ts,
 * one taker) this is a broadcast: with a shared session store the update is handed off under a
 * key of its own with a short TTL, every other instance hears the entry's event and gives it to
 * its own streams of that record which asked for the URI, and nobody takes the entry (it expires).
 * With the memory store (one process) nothing leaves the process.
 */
export class ListenFanout {
  /** Tells this instance's own handoffs from others' (it delivered those itself already). */
  private readonly origin = randomBytes(9).toString('base64url');
  private deliver: (held: string, message: JsonRpcNotification) => boolean = () => false;
  /** Keys of other instances' updates a stream here got, with when they may be forgotten (insertion order is time order). */
  private readonly delivered = new Map<string, number>();

  constructor(private readonly opts: ListenFanoutOptions) {
    if (opts.sessions.shared) opts.sessions.onHandoff((held, key, h) => this.heard(held, key, h));
  }

  /** Where updates handed off by other instances go: this process's listen streams (true when one took it). */
  onUpdate(deliver: (held: string, message: JsonRpcNotification) => boolean): void {
    this.deliver = deliver;
  }

  /** An update this instance received for a held record (and gave its own streams): to every other instance's, when the store is shared. */
  publish(held: string, message: JsonRpcNotification): void {
    if (!this.opts.sessions.shared) return;
    const key = `${KEY_PREFIX}${randomBytes(12).toString('base64url')}`;
    this.opts.sessions.handOff(held, key, { origin: this.origin, message }, this.opts.ttlMs).catch((err: unknown) => {
      this.opts.logger.debug({ session: sessionRef(held), err: (err as Error).message }, 'a resource update for listen streams on other instances was lost: the session store failed');
    });
  }

  private heard(held: string, key: string, handoff: Readonly<Record<string, unknown>>): void {
    if (!key.startsWith(KEY_PREFIX) || handoff.origin === this.origin || this.delivered.has(key)) return;
    const message = handoff.message as JsonRpcNotification | undefined;
    if (!message) return;
    if (this.deliver(held, message)) this.remember(key);
  }

  /** Remember a delivered key as long as the store may announce it again; the oldest go first past the bound. */
  private remember(key: string): void {
    const now = Date.now();
    for (const [k, until] of this.delivered) {
      if (until > now && this.delivered.size < MAX_REMEMBERED) break;
      this.delivered.delete(k);
    }
    this.delivered.set(key, now + this.opts.ttlMs);
  }
}
