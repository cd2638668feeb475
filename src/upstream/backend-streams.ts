import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { exposeResultUris } from '../catalog/uris.js';
import { isNotification, isRequest, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { RESOURCE_UPDATED } from '../mcp/methods.js';
import { openStream, replyMessages, type McpEndpoint } from './mcp-wire.js';
import { describeNetworkError } from './transport.js';
import { followingKey, type FollowLeases, type Following } from '../session/follow-leases.js';
import { Backoff, pause, type BackoffOptions } from '../wait.js';

/** Which backend session a message on a followed stream comes from. */
export interface StreamSource {
  readonly backend: string;
  readonly endpoint: McpEndpoint;
  /**
   * Sent to this instance's own subscription (a stateless backend's `subscriptions/listen`, which
   * each instance opens for the URIs subscribed on it), not on the one backend session all
   * instances share: every other instance that subscribed hears it from its own.
   */
  readonly perInstance?: true;
}

/**
 * Where what a followed backend session sends goes: the client session it is for. Requests
 * (sampling, elicitation, roots outside a call) are passed unchanged, to be relayed.
 */
export type BackendNotificationSink = (clientSessionId: string, message: JsonRpcNotification | JsonRpcRequest, from: StreamSource) => void;

/** One stream held on this process. */
interface Followed {
  readonly clientSessionId: string;
  readonly abort: AbortController;
  readonly uris?: ReadonlySet<string>;
  /** Whether this instance holds the following's lease (undefined: no shared store, or it could not be recorded). */
  leased?: boolean;
}

/** How far apart a taken-over stream is asked again while the backend still holds the previous follower's (409). */
const CONFLICT_BACKOFF: BackoffOptions = { firstMs: 300, maxMs: 10_000, jitter: 0.5 };

/**
 * GET streams the gateway holds on client sessions' backend sessions, opened when a client
 * subscribes to a resource, or calls a tool of the backend while it declares capabilities backends
 * may use outside a call: the backend sends `notifications/resources/updated`, list changes, log
 * messages and its own requests to the client there, not in answer to a request. Each notification is handed to the sink with the
 * URIs it names exposed (src/catalog/uris.ts). One stream per client session and backend session,
 * held until the client session ends or the backend closes it. With a shared session store one
 * instance of the cluster holds it (the one holding the following's lease, src/session/follow-leases.ts),
 * and when that instance stops another takes it over (src/upstream/follow-handover.ts); with the
 * memory store it ends with this process.
 */
/** How long a following known to be held by another live instance is not asked about again. */
const ELSEWHERE_RECHECK_MS = 30_000;

export class BackendStreams {
  private readonly open = new Map<string, Followed>();
  /**
   * Followings another live instance holds (key → that instance, the client session, when it was
   * learnt), so a call through this instance does not ask the cluster again each time. Trusted for
   * {@link ELSEWHERE_RECHECK_MS} only: a following the other instance gave up (its backend ended
   * the stream) is claimed again by the next call through here after that, at one cluster write
   * per following and interval rather than per call.
   */
  private readonly elsewhere = new Map<string, { readonly session: string; readonly owner: string; readonly at: number }>();
  /** Set once the gateway stops: streams aborted then are handed over, not given up. */
  private stopping = false;

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly sink: BackendNotificationSink,
    private readonly logger: Logger,
    /** Shared with the other gateway instances (Hazelcast): a following outlives this one. */
    private readonly leases?: FollowLeases,
    private readonly conflictBackoff: BackoffOptions = CONFLICT_BACKOFF,
  ) {
    // A session deleted through another instance: its backend sessions are followed here, maybe.
    leases?.onSessionEnded((session) => this.close(session));
  }

  /**
   * Follow a backend session for a client session, unless it is followed already (here, or with
   * a shared store by another live instance, which holds its lease); never throws.
   */
  follow(clientSessionId: string, backend: string, prefix: string, ep: McpEndpoint): void {
    if (!ep.sessionId) return; // a stateless backend has no stream to follow
    const f: Following = { session: clientSessionId, backend, backendSession: ep.sessionId, prefix };
    const key = followingKey(f);
    const other = this.elsewhere.get(key);
    if (other && Date.now() - other.at < ELSEWHERE_RECHECK_MS && this.leases?.isLive(other.owner)) return;
    this.elsewhere.delete(key);
    this.start(f, async (followed) => {
      if (!this.leases) return ep;
      const claim = await this.leases.claim(f).catch((err: unknown) => {
        // Followed all the same, as with one instance: only the takeover is lost.
        this.logger.debug({ backend, err: (err as Error).message }, 'cannot record the following of a backend session; following it here only');
        return undefined;
      });
      followed.leased = claim?.mine;
      if (!claim || claim.mine) return ep;
      this.elsewhere.set(key, { session: clientSessionId, owner: claim.owner, at: Date.now() });
      return undefined;
    });
  }

  /**
   * Follow a backend session this instance took over from one that stopped (its lease is held
   * here already). `endpoint` reads the session record again each time: undefined once the
   * following is no longer wanted. The backend may not have seen the previous follower's stream
   * close yet (node loss, partition, a hung instance) and refuse a second one (409): it is asked
   * again with a back-off for as long as the following is wanted, the lease kept meanwhile, so the
   * following is never left to nobody.
   */
  adopt(f: Following, endpoint: () => Promise<McpEndpoint | undefined>): void {
    this.start(f, async (followed) => {
      followed.leased = true;
      return endpoint();
    }, true);
  }

  /** Another instance follows it now (this one lost the cluster for longer than its lease): stop, without giving it up. */
  lost(f: Following): void {
    const followed = this.open.get(followingKey(f));
    if (!followed) return;
    followed.leased = false;
    followed.abort.abort();
  }

  /**
   * Run one following on this process: `endpoint` decides whether it is this process's to follow
   * (undefined: not), and where. With `whileRefused`, a 409 has it asked again.
   */
  private start(f: Following, endpoint: (followed: Followed) => Promise<McpEndpoint | undefined>, whileRefused = false): void {
    const key = followingKey(f);
    if (this.open.has(key) || this.stopping) return;
    const followed: Followed = { clientSessionId: f.session, abort: new AbortController() };
    const { signal } = followed.abort;
    this.open.set(key, followed);
    void (async () => {
      const backoff = new Backoff(this.conflictBackoff);
      while (!signal.aborted) {
        let ep: McpEndpoint | undefined;
        try {
          ep = await endpoint(followed);
        } catch (err) {
          // The store or the credentials failing now says nothing of whether the following is wanted: asked again.
          this.logger.debug({ backend: f.backend, err: (err as Error).message }, 'cannot open a followed backend session yet');
          if (!whileRefused) return;
          await pause(backoff.next(), signal);
          continue;
        }
        if (!ep || signal.aborted) return;
        if ((await this.relay(f.session, f.backend, f.prefix, ep, signal)) !== 'refused' || !whileRefused) return;
        await pause(backoff.next(), signal);
      }
    })().finally(() => {
      if (this.open.get(key) === followed) this.open.delete(key);
      // Ended by itself, or closed with its client session: nobody is to take it over. Handed over when the gateway stops.
      if (followed.leased && !this.stopping) void this.leases?.drop(f).catch((err: unknown) => this.logger.debug({ backend: f.backend, err: (err as Error).message }, 'giving up the following of a backend session failed'));
    });
  }

/**
   * A client session's resource subscriptions at a stateless-era backend, which has no session
   * stream: one `subscriptions/listen` request (`open`) per client session and backend, naming
   * every URI subscribed (the backend's URIs), reopened when the set changes and closed when it
   * empties. Its `notifications/resources/updated` go to the sink like a followed stream's.
   */
  listen(clientSessionId: string, backend: string, prefix: string, change: { readonly add?: string; readonly remove?: string }, open: (uris: string[], signal: AbortSignal) => AsyncGenerator<JsonRpcMessage>): void {
    const key = `${clientSessionId}\u0000${backend}\u0000listen`;
    const prev = this.open.get(key);
    const uris = new Set(prev?.uris ?? []);
    if (change.add !== undefined) uris.add(change.add);
    if (change.remove !== undefined) uris.delete(change.remove);
    prev?.abort.abort();
    this.open.delete(key);
    if (uris.size === 0) return;
    const abort = new AbortController();
    this.open.set(key, { clientSessionId, abort, uris });
    const from: StreamSource = { backend, endpoint: { url: '', headers: {} }, perInstance: true };
    void (async () => {
      try {
        for await (const m of open([...uris], abort.signal)) {
          if (isNotification(m) && m.method === RESOURCE_UPDATED) this.sink(clientSessionId, m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m, from);
        }
      } catch (err) {
        if (!abort.signal.aborted) this.logger.debug({ backend, err: describeNetworkError(err) }, 'backend subscriptions/listen stream ended');
      } finally {
        if (this.open.get(key)?.abort === abort) this.open.delete(key);
      }
    })();
  }

  /** Stop following every backend session of a client session (DELETE, expiry). */
  close(clientSessionId: string): void {
    for (const [key, e] of this.elsewhere) if (e.session === clientSessionId) this.elsewhere.delete(key);
    for (const [key, s] of this.open) {
      if (s.clientSessionId !== clientSessionId) continue;
      s.abort.abort();
      this.open.delete(key);
    }
  }

  /** The gateway stops: every stream ends here, and what a shared store records of them is left for the others to take over. */
  closeAll(): void {
    this.stopping = true;
    for (const s of this.open.values()) s.abort.abort();
    this.open.clear();
  }

  /** Relay a backend session's GET stream until it ends; 'refused' when the backend holds another stream on it (409). */
  private async relay(clientSessionId: string, backend: string, prefix: string, ep: McpEndpoint, signal: AbortSignal): Promise<'ended' | 'refused'> {
    try {
      const reply = await openStream(this.dispatcher, ep, signal);
      if (reply.status !== 200 || reply.contentType !== 'text/event-stream') {
        await reply.body.dump();
        this.logger.debug({ backend, status: reply.status }, 'backend offers no GET stream (409: it holds another on this session); resource updates are not relayed');
        return reply.status === 409 ? 'refused' : 'ended';
      }
      const from: StreamSource = { backend, endpoint: ep };
      for await (const m of replyMessages(reply)) {
        if (isRequest(m)) this.sink(clientSessionId, m, from);
        else if (isNotification(m)) this.sink(clientSessionId, m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m, from);
      }
    } catch (err) {
      if (!signal.aborted) this.logger.debug({ backend, err: describeNetworkError(err) }, 'backend GET stream ended');
    }
    return 'ended';
  }
}
