import type { Caller } from '../auth/caller.js';
import type { BackendDescriptor } from '../catalog/model.js';
import type { FollowLeases, Following } from '../session/follow-leases.js';
import type { SessionRecord, SessionStore } from '../session/store.js';
import type { BackendStreams } from './backend-streams.js';
import type { OutboundCredentials } from './credentials.js';
import { endpointOf } from './mcp-handshake.js';
import type { McpEndpoint } from './mcp-wire.js';

export interface FollowHandoverOptions {
  readonly leases: FollowLeases;
  readonly streams: BackendStreams;
  readonly sessions: SessionStore;
  readonly credentials: OutboundCredentials;
  /** The catalog's backends now. */
  readonly backends: () => ReadonlyMap<string, BackendDescriptor>;
}

/**
 * Followings this instance takes over from one that stopped are opened here again, from what the
 * session record holds (the backend session: its instance, id and protocol version) and the
 * credentials the backend takes outside a call. Those are the original follower's, except where
 * they were the caller's own: nobody's token is kept in the cluster, so a backend with
 * `oauth2-token-exchange` credentials gets what it gets without a caller (`withoutCaller`), and
 * identity headers name the session's principal (no OAuth client). A following no longer wanted
 * (the session or its backend session gone, the backend left the catalog) is given up instead;
 * one the store or the credentials cannot serve yet is asked again (src/upstream/backend-streams.ts),
 * its lease kept: nobody else could do better with it.
 */
export function takeOverFollowings(opts: FollowHandoverOptions): void {
  opts.leases.onTakeover((f) => opts.streams.adopt(f, () => endpointNow(opts, f)));
  opts.leases.onLost((f) => opts.streams.lost(f));
}

/** Where to follow a taken-over backend session now; undefined once it is not wanted any more (then it is given up). */
async function endpointNow(opts: FollowHandoverOptions, f: Following): Promise<McpEndpoint | undefined> {
  const session = await opts.sessions.current(f.session);
  const bs = session?.backendSessions[f.backend];
  const backend = opts.backends().get(f.backend);
  if (!session || !bs || bs.sessionId !== f.backendSession || !backend || !backend.urls.includes(bs.instance)) return undefined;
  const headers = await opts.credentials.headers(backend, callerOutside(backend, session));
  return endpointOf(bs, headers);
}

/** Who the backend is told it serves outside a call: the session's principal, unless its token was to be exchanged (no token is kept). */
function callerOutside(backend: BackendDescriptor, session: SessionRecord): Caller | undefined {
  if (backend.credentials.type === 'oauth2-token-exchange') return undefined;
  return { principal: session.principal, scopes: [], roles: [], claims: {} };
}
