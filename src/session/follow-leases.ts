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

/** What a claim found: this instance holds the lease, or the (live) instance that does. */
export type Claim = { readonly mine: true } | { readonly mine: false; readonly owner: string };

/**
 * Who follows which backend session, across the gateway instances sharing a session store, so
 * a following outlives the instance that holds it: exactly one live instance holds each one's
 * lease, and when that instance stops (handed over at once) or dies (its lease expires) another
 * takes it over. Absent with the memory store: one process, whose followings end with it.
 */
export interface FollowLeases {
  /**
   * Hold the following's lease for this instance (`mine` also when it holds it already), or name
   * the instance holding it (it follows already).
   */
  claim(f: Following): Promise<Claim>;
  /**
   * Whether an instance still held its lease when this one last looked (it renews its own every
   * few seconds): a following it holds need not be claimed again meanwhile, which would cost a
   * cluster write on every call.
   */
  isLive(owner: string): boolean;
  /** This instance stops the following for good (not wanted any more): nobody takes it over. */
  drop(f: Following): Promise<void>;
  /**
   * Called with a following this instance took over from one that stopped or died (it holds its
   * lease now): open the stream, or `drop` it when it is no longer wanted.
   */
  onTakeover(listener: (f: Following) => void): void;
  /**
   * Called with a following of this instance that another one holds now (this one lost the
   * cluster for longer than a lease and was taken over). An entry merely gone is written again.
   */
  onLost(listener: (f: Following) => void): void;
  /**
   * Called with a client session (or held record) deleted through any instance: the one following
   * its backend sessions stops, as it does when the session expires.
   */
  onSessionEnded(listener: (session: string) => void): void;
  /** Stop taking over (the gateway drains): what instances leave meanwhile goes to those that stay, not to one about to leave too. */
  retire(): void;
  /** Hand every following of this instance over to the others at once (graceful stop), before the store closes. */
  release(): Promise<void>;
}

/** The one key of a following (no id holds a NUL). */
export function followingKey(f: Pick<Following, 'session' | 'backend' | 'backendSession'>): string {
  return `${f.session}\u0000${f.backend}\u0000${f.backendSession}`;
}
