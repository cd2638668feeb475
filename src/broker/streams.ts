import type { JsonRpcMessage } from '../mcp/jsonrpc.js';

/** A client's open GET stream, as the HTTP adapter provides it. */
export interface StreamSink {
  send(message: JsonRpcMessage): void;
  close(): void;
}

/**
 * The GET streams open on this process, by session. Server-initiated messages go to the
 * newest stream of each session (the transport spec: each message on one stream only).
 */
export class StreamHub {
  private readonly bySession = new Map<string, StreamSink[]>();

  /** Register a stream; returns the function that unregisters it. */
  add(sessionId: string, sink: StreamSink): () => void {
    const list = this.bySession.get(sessionId) ?? [];
    list.push(sink);
    this.bySession.set(sessionId, list);
    return () => {
      const l = this.bySession.get(sessionId);
      if (!l) return;
      const i = l.indexOf(sink);
      if (i >= 0) l.splice(i, 1);
      if (l.length === 0) this.bySession.delete(sessionId);
    };
  }

  /** Send to one session's newest stream; false when the session has none open on this process. */
  send(sessionId: string, message: JsonRpcMessage): boolean {
    const list = this.bySession.get(sessionId);
    const sink = list?.[list.length - 1];
    sink?.send(message);
    return sink !== undefined;
  }

  broadcast(message: JsonRpcMessage): void {
    for (const list of this.bySession.values()) list[list.length - 1]?.send(message);
  }

  /** Close every stream of a session that ended. */
  closeSession(sessionId: string): void {
    const list = this.bySession.get(sessionId);
    this.bySession.delete(sessionId);
    for (const s of list ?? []) s.close();
  }

  closeAll(): void {
    for (const id of [...this.bySession.keys()]) this.closeSession(id);
  }

  /** GET streams the session holds open on this process. */
  countOf(sessionId: string): number {
    return this.bySession.get(sessionId)?.length ?? 0;
  }

  get count(): number {
    let n = 0;
    for (const l of this.bySession.values()) n += l.length;
    return n;
  }
}
