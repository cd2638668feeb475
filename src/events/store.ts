/** One stored SSE event: its place in the stream, the JSON-RPC message ('' for a priming event), when it was sent. */
export interface StoredEvent {
  readonly seq: number;
  readonly data: string;
  readonly at: number;
}

/** Who a stream belongs to and what it carries. */
export interface StreamOwner {
  /** Digest of the owning session's id (`sessionRef`), never the id itself. */
  readonly session: string;
  /** `session`: a GET stream (server-initiated messages); `call`: the SSE answer to one request. */
  readonly kind: 'session' | 'call';
}

/**
 * What is kept of a stream: its newest events within the bounds, and whether it ended (a call
 * stream after its response, or a call that ended without one). One process writes a stream:
 * the one that runs its call or holds its GET stream.
 */
export interface StreamWindow extends StreamOwner {
  readonly events: StoredEvent[];
  ended: boolean;
  /** Bytes of `data` held in `events`. */
  bytes: number;
}

/** How much of each stream is kept, so a disconnected client can be given what it missed. */
export interface EventBounds {
  readonly maxEventsPerStream: number;
  readonly maxBytesPerStream: number;
  /** Events older than this are dropped; a stream not written or touched for this long is forgotten. */
  readonly maxAgeMs: number;
}

/**
 * Port for the event store: where stream windows live between a disconnect and a resume.
 * Memory (one process) or Hazelcast (any gateway instance of the cluster can replay).
 */
export interface EventStore {
  /**
   * The window changed (its one writer appended, trimmed or ended it). Never waits: adapters that
   * write over the network write the newest state in the background, in order.
   */
  save(stream: string, window: StreamWindow): void;
  /** Keep an idle stream (an open GET stream without traffic) from expiring. */
  touch(stream: string): void;
  /** The stream's window as stored, or undefined when unknown or expired. */
  load(stream: string): Promise<StreamWindow | undefined>;
  close(): Promise<void>;
}
