import type { EventLog } from '../events/log.js';
import type { StreamWriter } from '../events/writer.js';
import type { JsonRpcMessage } from '../mcp/jsonrpc.js';

/** One GET stream of a session: its events, and how many connections follow it on this process. */
export interface SessionStream {
  readonly writer: StreamWriter;
  attached: number;
  /** When the last connection went; a detached stream keeps recording so a resume gets what it missed. */
  detachedAt?: number;
}

/**
 * The GET streams of sessions on this process. Server-initiated messages go to the newest stream
 * of each session (the transport spec: each message on one stream only), connected or not: a
 * stream whose connection dropped keeps recording, so the client resumes it with `Last-Event-ID`.
 * A detached stream is forgotten after the event age bound, when the session opens a fresh one,
 * or when the session ends.
 */
export class StreamHub {
  private readonly bySession = new Map<string, SessionStream[]>();

  constructor(readonly log: EventLog) {}

  /**
   * A new GET stream for the session, followed by the connection that opens it; the session's
   * detached streams (the client did not resume them) end.
   */
  open(sessionId: string): SessionStream {
    const list = (this.bySession.get(sessionId) ?? []).filter((s) => {
      if (s.attached > 0) return true;
      s.writer.end();
      return false;
    });
    const stream: SessionStream = { writer: this.log.open(sessionId, 'session'), attached: 1 };
    list.push(stream);
    this.bySession.set(sessionId, list);
    return stream;
  }

  /** The session's stream `id`, when this process writes it (a resume on the same instance). */
  find(sessionId: string, id: string): SessionStream | undefined {
    return this.bySession.get(sessionId)?.find((s) => s.writer.id === id);
  }

  /** One more connection follows the stream (a resume on the same instance). */
  attach(stream: SessionStream): void {
    stream.attached++;
    delete stream.detachedAt;
  }

  /** A connection that followed the stream went; with none left it records on, detached. */
  detach(stream: SessionStream): void {
    if (--stream.attached === 0) stream.detachedAt = Date.now();
  }

  /**
   * Send to one session's newest stream (recorded even while detached, for a resume); false when
   * the session has none on this process.
   */
  send(sessionId: string, message: JsonRpcMessage): boolean {
    const stream = this.newest(sessionId);
    if (!stream) return false;
    stream.writer.append(JSON.stringify(message));
    return true;
  }

  /** Whether `send` would reach a stream of the session on this process (connected or recording for a resume). */
  holds(sessionId: string): boolean {
    return this.newest(sessionId) !== undefined;
  }

  private newest(sessionId: string): SessionStream | undefined {
    const list = this.bySession.get(sessionId);
    const stream = list?.[list.length - 1];
    return stream && !stream.writer.window.ended ? stream : undefined;
  }

  broadcast(message: JsonRpcMessage): void {
    const data = JSON.stringify(message);
    const forgetBefore = Date.now() - this.log.opts.maxAgeMs;
    for (const [sessionId, list] of this.bySession) {
      for (const s of list) if (s.detachedAt !== undefined && s.detachedAt < forgetBefore) s.writer.end();
      const live = list.filter((s) => !s.writer.window.ended);
      if (live.length === 0) this.bySession.delete(sessionId);
      else this.bySession.set(sessionId, live);
      live[live.length - 1]?.writer.append(data);
    }
  }

  /** End every stream of a session that ended (their connections close). */
  closeSession(sessionId: string): void {
    const list = this.bySession.get(sessionId);
    this.bySession.delete(sessionId);
    for (const s of list ?? []) s.writer.end();
  }

  closeAll(): void {
    for (const id of [...this.bySession.keys()]) this.closeSession(id);
  }

  /** Connections following the session's GET streams on this process. */
  countOf(sessionId: string): number {
    let n = 0;
    for (const s of this.bySession.get(sessionId) ?? []) n += s.attached;
    return n;
  }

  /** Connections following GET streams on this process. */
  get count(): number {
    let n = 0;
    for (const l of this.bySession.values()) for (const s of l) n += s.attached;
    return n;
  }
}
