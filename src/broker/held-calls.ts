/**
 * The multi-round-trip bridge (MRTR) between stateless clients and session-era backends. A
 * session-era backend asks its client things in the middle of a call (`sampling/createMessage`,
 * `elicitation/create`, `roots/list`); a stateless client can only be asked by ending its answer
 * with `input_required` and being retried. So the first request the backend sends ends the
 * client's answer that way, while the backend call stays held: it goes on writing what the
 * backend sends to an event stream (src/events, shared by every instance with a shared store).
 * The client's retry delivers its answers through the relay machinery (the pending relays live in
 * the session store, so any instance can answer) and reads the held stream on from where the
 * sealed `requestState` says the client stopped: to the final result, or to the next request.
 */
import type { Logger } from 'pino';
import type { Caller } from '../auth/caller.js';
import type { SessionStore } from '../session/store.js';
import { wireError } from '../errors.js';
import type { EventLog } from '../events/log.js';
import type { StoredEvent } from '../events/store.js';
import { pause } from '../wait.js';
import { readBurst } from './burst.js';
import { RESULT_INPUT_REQUIRED } from '../mcp/era.js';
import { isObject, isRequest, isResponse, success, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { logVisible } from '../mcp/log-level.js';
import { RELAYED_NOTIFICATIONS } from '../mcp/methods.js';
import { statelessResponse, statelessResult, type CacheHint, type ServerInfo } from '../mcp/stateless-results.js';
import { openRound, sealRound, type HeldRound, type RoundBinding } from '../session/request-state.js';
import type { SessionRecord } from '../session/store.js';
import type { ClientRelay } from '../upstream/client-relay.js';
import { progressToken } from '../upstream/call.js';

export interface HeldCallsOptions {
  readonly log: EventLog;
  readonly relay: ClientRelay | undefined;
  /** Seals `requestState` (src/session/state-key.ts). */
  readonly sealKey: Buffer;
  readonly serverInfo: ServerInfo;
  /** Longest a `requestState` is good for (the relays it names may time out sooner). */
  readonly stateTtlMs: number;
  /** How long after a backend's request more of them join the same `input_required` (src/broker/burst.ts). */
  readonly settleMs: number;
  readonly logger: Logger;
  /** Carries a retry's cancellation to the instance holding the call; absent: only a call held here is cancelled. */
  readonly sessions?: SessionStore;
}

/** Handoff key of a held call's cancellation, followed by its stream id. */
const CANCEL_KEY = 'held-cancel:';

/** One stateless request a backend call answers: who asks, in which held record, and how its answer is shaped. */
export interface StatelessRound {
  readonly session: SessionRecord;
  readonly request: JsonRpcRequest;
  readonly caller: Caller;
  /** The tool or prompt name, or URI, as the client named it (bound into `requestState`). */
  readonly name: string;
  readonly cache?: CacheHint;
}

export class HeldCalls {
  /** Calls held on this process, by the stream they write: a retry that lands here and goes away cancels them. */
  private readonly held = new Map<string, AbortController>();
  /**
   * Streams of held calls that ended, kept here while their state is good when no event store keeps
   * them (`events.store: off`): the end may come before the retry reads it.
   */
  private readonly ended = new Map<string, { readonly events: readonly StoredEvent[]; readonly until: number }>();

  constructor(private readonly opts: HeldCallsOptions) {
    opts.sessions?.onHandoff((sessionId, key) => {
      const abort = key.startsWith(CANCEL_KEY) ? this.held.get(key.slice(CANCEL_KEY.length)) : undefined;
      if (!abort) return;
      abort.abort(new Error('client disconnected from another instance'));
      void opts.sessions?.takeHandoff(sessionId, key).catch(() => undefined);
    });
  }

  /** How long a `requestState` this process seals is good for. */
  get stateTtlMs(): number {
    return this.opts.stateTtlMs;
  }

  /** How many calls this process holds for their clients' input. */
  get size(): number {
    return this.held.size;
  }

  /**
   * The first round of a stateless call: notifications pass (log messages only at the request's
   * `logLevel`), the final response is shaped, and the backend's first request to the client (with
   * those that follow it within the settle window) ends the answer with `input_required` while the
   * rest of the call is held.
   */
  async *first(round: StatelessRound, messages: AsyncGenerator<JsonRpcMessage>, abort: AbortController): AsyncGenerator<JsonRpcMessage> {
    let holding = false;
    try {
      for (;;) {
        const next = await messages.next();
        if (next.done) return;
        const m = next.value;
        if (isRequest(m)) {
          holding = true;
          // What comes in the window goes to the held stream: its notifications reach the client on the retry.
          const burst = await readBurst(messages, this.opts.settleMs, isResponse);
          const stream = this.hold(round.session.id, [m, ...burst.taken], messages, burst.pending, abort);
          yield this.inputRequired(round, [m, ...burst.taken.filter(isRequest)], stream, 0, []);
          return;
        }
        const out = this.toClient(round, m);
        if (out) yield out;
        if (isResponse(m)) return;
      }
    } finally {
      if (!holding) await messages.return(undefined);
    }
  }

  /**
   * A retry with `inputResponses`: deliver the answers to the backend, then read the held call on
   * from where the client stopped. A state whose relays are gone (answered already, timed out) is
   * refused before anything reaches the backend. Keys of `inputResponses` that name no request of
   * the state are ignored.
   */
  async *resume(round: StatelessRound, state: HeldRound, answers: unknown, signal: AbortSignal): AsyncGenerator<JsonRpcMessage> {
    const id = round.request.id;
    const delivered = await this.deliver(round, state, isObject(answers) ? answers : {});
    if (delivered === 'spent') {
      yield statelessResponse(wireError('GW_REQUEST_STATE_INVALID', id, 'the requestState was used already, or its input requests timed out; send the request again without it'), this.opts.serverInfo);
      return;
    }
    const done = new Set([...state.skip, ...delivered]);
    // Gone while the answers were delivered: no abort event comes any more.
    if (signal.aborted) this.cancel(state.session, state.stream);
    // A client that goes away cancels the held call, as closing any stateless answer does: here, or through the store where it is held.
    const onAbort = (): void => this.cancel(state.session, state.stream);
    signal.addEventListener('abort', onAbort, { once: true });
    // Stops following the stream once this round is answered (a burst's read may still wait on it).
    const reading = new AbortController();
    const stop = (): void => reading.abort();
    signal.addEventListener('abort', stop, { once: true });
    const events = this.events(state.stream, state.seq, reading.signal);
    const asked = (e: StoredEvent): JsonRpcRequest | undefined => {
      const m = JSON.parse(e.data) as JsonRpcMessage;
      return isRequest(m) && !done.has(String(m.id)) ? m : undefined;
    };
    try {
      let last = state.seq;
      for (let next = await events.next(); !next.done; next = await events.next()) {
        const e = next.value;
        const m = JSON.parse(e.data) as JsonRpcMessage;
        if (isRequest(m)) {
          if (!done.has(String(m.id))) {
            // Read on from `last` next time: what the window passes over (notifications, the end) is not lost.
            const burst = await readBurst(events, this.opts.settleMs, (x) => isResponse(JSON.parse(x.data) as JsonRpcMessage));
            const more = burst.taken.flatMap((x) => asked(x) ?? []);
            return yield this.inputRequired(round, [m, ...more], state.stream, last, [...done]);
          }
        } else {
          const out = this.toClient(round, isResponse(m) ? { ...m, id } : this.progressFor(round.request, m));
          if (out) yield out;
          if (isResponse(m)) return;
        }
        last = e.seq;
      }
      if (!signal.aborted) yield statelessResponse(wireError('GW_REQUEST_STATE_INVALID', id, 'the held call is gone (it ended, or its instance stopped); send the request again without requestState'), this.opts.serverInfo);
    } finally {
      signal.removeEventListener('abort', onAbort);
      signal.removeEventListener('abort', stop);
      reading.abort();
      void events.return(undefined).catch(() => undefined);
    }
  }

  /**
   * The held call's events after `seq`: from the event log, or what this process kept of an ended
   * stream. A stream another instance writes may not have reached the shared store yet when a
   * quick retry lands here: an unknown one is looked for once more after a poll interval.
   */
  private async *events(stream: string, seq: number, signal: AbortSignal): AsyncGenerator<StoredEvent> {
    const kept = this.ended.get(stream);
    if (kept) return yield* kept.events.filter((e) => e.seq > seq && e.data !== '');
    const { log } = this.opts;
    for (let attempt = 0; attempt < 2 && !signal.aborted; attempt++) {
      let seen = false;
      for await (const e of log.follow({ cursor: { stream, seq }, kind: 'call' }, signal)) {
        seen = true;
        yield e;
      }
      if (seen || attempt > 0) return;
      await pause(log.opts.pollMs ?? 200, signal);
    }
  }

  /** A `requestState` this gateway sealed, opened for the request it was issued to (src/session/request-state.ts). */
  open(state: unknown, binding: RoundBinding): ReturnType<typeof openRound> {
    return openRound(this.opts.sealKey, state, binding);
  }

  /** Cut every held call (shutdown). */
  cutAll(reason: Error): void {
    for (const abort of this.held.values()) abort.abort(reason);
  }

  /**
   * Answer the relays the state names with the client's `inputResponses`; the first one taken
   * makes this request the state's one user. `spent` when none could be taken although answered.
   */
  private async deliver(round: StatelessRound, state: HeldRound, answers: Record<string, unknown>): Promise<string[] | 'spent'> {
    const relay = this.opts.relay;
    const session = { ...round.session, id: state.session };
    const delivered: string[] = [];
    let answered = 0;
    for (const relayId of state.relays) {
      const answer = answers[relayId];
      if (!isObject(answer)) continue;
      answered++;
      const { resultType: _type, ...result } = answer;
      if (relay && (await relay.fromClient(session, success(relayId, result), round.caller))) delivered.push(relayId);
      else if (delivered.length === 0) return 'spent';
    }
    // No answer at all: the input requests are asked again (nothing reached the backend).
    return answered > 0 && delivered.length === 0 ? 'spent' : delivered;
  }

  /**
   * Keep running the call; what it sends from now on goes to a new event stream, starting with
   * `taken` (the request that asked and its burst), then `pending` (the read the burst left open).
   */
  private hold(sessionId: string, taken: readonly JsonRpcMessage[], messages: AsyncGenerator<JsonRpcMessage>, pending: Promise<IteratorResult<JsonRpcMessage>> | undefined, abort: AbortController): string {
    const writer = this.opts.log.open(sessionId, 'call');
    for (const m of taken) writer.append(JSON.stringify(m));
    this.held.set(writer.id, abort);
    void (async () => {
      try {
        if (taken.some(isResponse)) return;
        for (let next = pending ?? messages.next(); ; next = messages.next()) {
          const r = await next;
          if (r.done) break;
          writer.append(JSON.stringify(r.value));
          if (isResponse(r.value)) break;
        }
      } catch (err) {
        this.opts.logger.debug({ err: (err as Error).message }, 'a held call failed');
      } finally {
        await messages.return(undefined).catch(() => undefined);
        writer.end();
        this.held.delete(writer.id);
        if (!this.opts.log.resumable) this.keep(writer.id, writer.window.events);
      }
    })();
    return writer.id;
  }

  /** Keep an ended stream for as long as a state naming it may come back (events.store: off). */
  private keep(stream: string, events: readonly StoredEvent[]): void {
    const now = Date.now();
    for (const [id, k] of this.ended) if (k.until <= now) this.ended.delete(id);
    this.ended.set(stream, { events, until: now + this.opts.stateTtlMs });
  }

  /** The answer that asks the client for input: the requests by their relay ids, and the sealed state of the held call. */
  private inputRequired(round: StatelessRound, requests: readonly JsonRpcRequest[], stream: string, seq: number, skip: readonly string[]): JsonRpcResponse {
    const inputRequests: Record<string, unknown> = {};
    for (const r of requests) inputRequests[String(r.id)] = { method: r.method, ...(r.params ? { params: r.params } : {}) };
    const state = sealRound(this.opts.sealKey, {
      principal: round.caller.principal,
      method: round.request.method,
      name: round.name,
      session: round.session.id,
      stream,
      seq,
      relays: requests.map((r) => String(r.id)),
      skip,
      expiresAt: Date.now() + this.opts.stateTtlMs,
    });
    return success(round.request.id, statelessResult({ resultType: RESULT_INPUT_REQUIRED, inputRequests, requestState: state }, this.opts.serverInfo));
  }

  /** What of a backend's message reaches this client: log messages only at its level, the response shaped. */
  private toClient(round: StatelessRound, m: JsonRpcMessage | undefined): JsonRpcMessage | undefined {
    if (!m) return undefined;
    if (isResponse(m)) return statelessResponse(m, this.opts.serverInfo, 'result' in m ? round.cache : undefined);
    if ('method' in m && m.method === RELAYED_NOTIFICATIONS.message) {
      const level = round.session.logLevel;
      return level !== undefined && logVisible(level, m.params?.level) ? m : undefined;
    }
    return m;
  }

  /** A held call's progress, under this retry's progress token (dropped when it asked for none). */
  private progressFor(request: JsonRpcRequest, m: JsonRpcMessage): JsonRpcMessage | undefined {
    if (!('method' in m) || m.method !== RELAYED_NOTIFICATIONS.progress) return m;
    const token = progressToken(request);
    return token === undefined ? undefined : { ...m, params: { ...m.params, progressToken: token } };
  }

  /** Cancel a held call: here, or (through the store) on the instance that holds it. */
  private cancel(sessionId: string, stream: string): void {
    const here = this.held.get(stream);
    if (here) return here.abort(new Error('client disconnected'));
    this.opts.sessions?.handOff(sessionId, `${CANCEL_KEY}${stream}`, {}, this.opts.stateTtlMs).catch((err: unknown) => {
      this.opts.logger.debug({ err: (err as Error).message }, 'cancelling a call held on another instance failed; it ends with the backend timeout');
    });
  }
}
