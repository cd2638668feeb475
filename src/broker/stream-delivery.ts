import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';
import { isHeldSessionId } from '../session/held.js';
import type { SessionStore } from '../session/store.js';
import { sessionRef } from '../telemetry/audit.js';
import type { StreamHub } from './streams.js';

/** Handoff keys of messages for a session's GET stream (never a relay id or another handoff's key). */
const KEY_PREFIX = 'get-stream:';

export interface StreamDeliveryOptions {
  readonly hub: StreamHub;
  readonly sessions: SessionStore;
  /**
   * How long an instance holding the session's GET stream has to claim a message handed off to it
   * (hear the event and take the entry); a request nobody claimed by then finds no stream.
   */
  readonly claimMs: number;
  readonly logger: Logger;
}

/**
 * What reaches a session's GET stream from outside a call (a followed backend session's
 * notifications and requests, a relay's timeout), on whichever gateway instance holds that stream.
 * The stream on this process gets it when there is one (as with one gateway). Otherwise, with a
 * shared session store, the message is handed off through it (`SessionStore.handOff`): every
 * instance hears of it, those holding a stream of the session race to take the entry, and the one
 * that takes it writes it to its stream (so a resume with `Last-Event-ID` replays it too). Taking
 * is atomic, so the message reaches exactly one stream; one nobody takes expires with its entry
 * (as a message for a session with no stream is dropped on one gateway), and a request's sender
 * takes it back after the claim window to learn it reached no stream.
 */
export class StreamDelivery {
  /** Takes in flight per session, in the order their events came, so a stream gets messages in that order. */
  private readonly claims = new Map<string, Promise<void>>();

  constructor(private readonly opts: StreamDeliveryOptions) {
    if (opts.sessions.shared) opts.sessions.onHandoff((sessionId, key, message) => this.handedOff(sessionId, key, message.message as JsonRpcMessage | undefined));
  }

  /**
   * Send to the session's GET stream, here or on another instance. `undelivered` is called when
   * no instance holds one (at once without a shared store, after the claim window with one).
   */
  send(sessionId: string, message: JsonRpcMessage, undelivered?: () => void): void {
    if (this.opts.hub.send(sessionId, message)) return;
    // A gateway-held record (stateless clients) has listen streams, never a GET stream.
    if (!this.opts.sessions.shared || isHeldSessionId(sessionId)) return void undelivered?.();
    const key = `${KEY_PREFIX}${randomBytes(12).toString('base64url')}`;
    const { claimMs } = this.opts;
    // A request's entry outlives the claim window, so its sender finds it when nobody took it.
    this.opts.sessions.handOff(sessionId, key, { message }, undelivered ? 2 * claimMs : claimMs).then(
      () => {
        if (undelivered) setTimeout(() => void this.takeBack(sessionId, key, undelivered), claimMs).unref();
      },
      (err: unknown) => {
        this.opts.logger.debug({ session: sessionRef(sessionId), err: (err as Error).message }, 'a message for a GET stream on another instance was lost: the session store failed');
        undelivered?.();
      },
    );
  }

  /** After the claim window: an entry still there reached no stream. */
  private async takeBack(sessionId: string, key: string, undelivered: () => void): Promise<void> {
    const left = await this.opts.sessions.takeHandoff(sessionId, key).catch(() => undefined);
    if (left) undelivered();
  }

  private handedOff(sessionId: string, key: string, message: JsonRpcMessage | undefined): void {
    if (!key.startsWith(KEY_PREFIX) || !message || !this.opts.hub.holds(sessionId)) return;
    const claim = (this.claims.get(sessionId) ?? Promise.resolve()).then(() => this.claim(sessionId, key, message));
    this.claims.set(sessionId, claim);
    void claim.then(() => {
      if (this.claims.get(sessionId) === claim) this.claims.delete(sessionId);
    });
  }

  /** Take the entry (another holder may win) and write the message to this process's stream. */
  private async claim(sessionId: string, key: string, message: JsonRpcMessage): Promise<void> {
    const taken = await this.opts.sessions.takeHandoff(sessionId, key).catch(() => undefined);
    if (!taken || this.opts.hub.send(sessionId, message)) return;
    // The stream ended meanwhile: put it back for another holder, or for its sender to take back.
    await this.opts.sessions.handOff(sessionId, key, taken, this.opts.claimMs).catch(() => undefined);
  }
}
