import { sessionRef } from '../telemetry/audit.js';
import { eventId, newStreamId, parseEventId, type EventCursor } from './event-id.js';
import type { EventBounds, EventStore, StoredEvent, StreamOwner, StreamWindow } from './store.js';
import { StreamWriter } from './writer.js';
import { pause } from '../wait.js';

/** A stream a client may resume: one of its own session's, with nothing it missed dropped. */
export interface ResumePoint {
  readonly cursor: EventCursor;
  readonly kind: StreamOwner['kind'];
}

export interface EventLogOptions extends EventBounds {
  /** `retry` (ms) sent with priming events: how long a client waits before it reconnects. */
  readonly retryMs: number;
  /** How often a stream written by another instance is read again while a client follows it here. */
  readonly pollMs?: number;
  /** False with `events.store: off`: clients get no ids (and no priming), so nothing is resumed. */
  readonly resumable?: boolean;
  /** Told of each `Last-Event-ID`: replayed, or answered with a fresh stream (metrics). */
  readonly onResume?: (result: 'replayed' | 'fresh') => void;
}


/**
 * Every SSE stream the gateway sends is numbered and kept here, so a client that lost its
 * connection can ask for the rest with `GET` + `Last-Event-ID`, on this instance or (with a
 * shared store) on another one.
 */
export class EventLog {
  /** Streams this process writes and that have not ended. */
  private readonly writers = new Map<string, StreamWriter>();

  constructor(
    readonly store: EventStore,
    readonly opts: EventLogOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether clients get event ids (and priming events): false with `events.store: off`. */
  get resumable(): boolean {
    return this.opts.resumable !== false;
  }

  /** A new stream of a session. */
  open(sessionId: string, kind: StreamOwner['kind']): StreamWriter {
    const writer = new StreamWriter(newStreamId(), { session: sessionRef(sessionId), kind }, this.store, this.opts, (w) => this.writers.delete(w.id), this.now);
    this.writers.set(writer.id, writer);
    return writer;
  }

  /**
   * Where a `Last-Event-ID` lets this session resume. Undefined when the id is not the gateway's,
   * names another session's stream or one that is gone, when events after it were dropped by the
   * bounds, or when the stream ended and the client has all of it: nothing can be replayed exactly.
   */
  async find(sessionId: string, lastEventId: string | undefined): Promise<ResumePoint | undefined> {
    const point = await this.resumePoint(sessionId, lastEventId);
    this.opts.onResume?.(point ? 'replayed' : 'fresh');
    return point;
  }

  private async resumePoint(sessionId: string, lastEventId: string | undefined): Promise<ResumePoint | undefined> {
    const cursor = this.resumable ? parseEventId(lastEventId) : undefined;
    if (!cursor) return undefined;
    const w = this.writers.get(cursor.stream)?.window ?? (await this.loadSoon(cursor.stream));
    if (!w || w.session !== sessionRef(sessionId)) return undefined;
    const first = w.events[0];
    if (first && first.seq > cursor.seq + 1) return undefined;
    const newest = w.events[w.events.length - 1];
    if (w.ended && (!newest || newest.seq <= cursor.seq)) return undefined;
    return { cursor, kind: w.kind };
  }

  /**
   * A stream another instance writes may not have reached a shared store yet when its client,
   * cut off at once, resumes here: an unknown stream is read once more after a poll interval.
   */
  private async loadSoon(stream: string): Promise<StreamWindow | undefined> {
    const w = await this.store.load(stream);
    if (w) return w;
    await pause(this.opts.pollMs ?? 200);
    return this.store.load(stream);
  }

  /**
   * The events after the cursor: those kept, then (unless `once`) new ones as they come, until
   * the stream ends, falls behind its bounds, or `signal` aborts. Priming events are skipped.
   */
  async *follow(point: ResumePoint, signal: AbortSignal, once = false): AsyncGenerator<StoredEvent & { id: string }> {
    const { stream } = point.cursor;
    let after = point.cursor.seq;
    while (!signal.aborted) {
      const writer = this.writers.get(stream);
      const w = writer?.window ?? (await this.store.load(stream));
      if (!w) return;
      // Events the client has not seen were dropped while it lagged: end, so it reconnects and learns.
      if (w.events.length > 0 && w.events[0]!.seq > after + 1) return;
      const fresh = w.events.filter((e) => e.seq > after);
      for (const e of fresh) {
        after = e.seq;
        if (e.data !== '') yield { ...e, id: eventId(stream, e.seq) };
        if (signal.aborted) return;
      }
      if (once) return;
      // A live window may have grown (and ended) while the events were written out.
      if ((w.events[w.events.length - 1]?.seq ?? 0) > after) continue;
      if (w.ended) return;
      if (writer) await writer.changed(after, signal);
      else await pause(this.opts.pollMs ?? 200, signal);
    }
  }

  /** Close the store. Calls still running go on numbering their streams (GET streams end with the hub). */
  async close(): Promise<void> {
    await this.store.close();
  }
}
