/**
 * One following: a gateway instance holding a backend session's GET stream open on behalf of a
 * client session (or a stateless caller's held record), so what the backend sends outside a call
 * reaches the client. What another instance needs to take it over is here or in the session record.
 */
export interface Following {
  /** The client session or held record the backend session belongs to. */
  readonly session: string;
  readonly backend: string;
  /** The backend's Mcp-Session-Id (a new backend session is a new following). */
  readonly backendSession: string;
  /** Under which prefix the backend's notifications expose resource URIs (src/catalog/uris.ts). */
  readonly prefix: string;
}

/**
 * Who follows which backend session, across the gateway instances sharing a session store, so
 * a following outlives the instance that holds it: exactly one live instance holds each one's
 * lease, and when that instance stops (handed over at once) or dies (its lease expires) another
 * takes it over. Absent with the memory store: one process, whose followings end with it.
 */
export interface FollowLeases {
  /**
   * Hold the following's lease for this instance; false when another live instance holds it (it
   * follows already). True also when this instance holds it already.
   */
  claim(f: Following): Promise<boolean>;
  /** This instance stops the following for good (not wanted any more): nobody takes it over. */
  drop(f: Following): Promise<void>;
  /**
   * Called with a following this instance took over from one that stopped or died (it holds its
   * lease now): open the stream, or `drop` it when it is no longer wanted.
   */
  onTakeover(listener: (f: Following) => void): void;
  /** Called with a following of this instance another one holds now (after this one lost the cluster for longer than a lease). */
  onLost(listener: (f: Following) => void): void;
  /** Hand every following of this instance over to the others at once (graceful stop), before the store closes. */
  release(): Promise<void>;
}

/** The one key of a following (no id holds a NUL). */
export function followingKey(f: Pick<Following, 'session' | 'backend' | 'backendSession'>): string {
  return `${f.session}\u0000${f.backend}\u0000${f.backendSession}`;
}
