import { randomBytes } from 'node:crypto';
import type { FollowLeases } from './follow-leases.js';

/** Who a session belongs to. Anonymous until authentication is configured. */
export interface Principal {
  readonly issuer: string | null;
  readonly subject: string;
}

export const ANONYMOUS: Principal = Object.freeze({ issuer: null, subject: 'anonymous' });

export function samePrincipal(a: Principal, b: Principal): boolean {
  return a.issuer === b.issuer && a.subject === b.subject;
}

/** The gateway's session with one backend on behalf of one client session. */
export interface BackendSession {
  /** Base URL of the instance that holds the session (backend sessions are per instance). */
  readonly instance: string;
  /** The backend's Mcp-Session-Id; null when the backend runs stateless. */
  readonly sessionId: string | null;
  readonly protocolVersion: string;
}

/**
 * A backend's request relayed to the client and not answered yet, under the id the client saw.
 * Kept in the session record so the answer may land on any gateway instance.
 */
export interface PendingRelay {
  readonly backend: string;
  /** The id the backend gave its request (its answer must carry it). */
  readonly backendId: string | number;
  readonly method: string;
  /** The backend session that asked (instance and Mcp-Session-Id), which the answer is sent in. */
  readonly via: BackendSession;
  /** The tool whose call caused it (audit), or null. */
  readonly tool: string | null;
  /** When it was relayed, and when the gateway answers the backend with a timeout instead (epoch ms). */
  readonly askedAt: number;
  readonly expiresAt: number;
}

/** A message one instance hands to another through the store (JSON). */
export type Handoff = Readonly<Record<string, unknown>>;

/** What the gateway remembers about a client session (DESIGN.md "Session record"). */
export interface SessionRecord {
  readonly id: string;
  readonly principal: Principal;
  readonly protocolVersion: string;
  readonly clientInfo?: Record<string, unknown>;
  readonly clientCapabilities: Record<string, unknown>;
  readonly backendSessions: Readonly<Record<string, BackendSession>>;
  /** Minimum level of log notifications the client asked for (`logging/setLevel`). */
  readonly logLevel?: string;
  /** Tasks this session's calls created (2025-11-25), by the id the client sees: only this session reaches them. */
  readonly tasks?: readonly string[];
  /** Backend requests relayed to the client and waiting for its answer, by the id the client saw. */
  readonly relays?: Readonly<Record<string, PendingRelay>>;
  /**
   * Who the session counts against under `sessions.maxPerPrincipal` (SessionQuota.owner), where the
   * store keeps that count beside the records (Hazelcast): every use that keeps the record alive
   * keeps its count alive too. Absent in records nobody counts (gateway-held ones) and in memory.
   */
  readonly quotaOwner?: string;
  /** The virtual server the session was created on (absent: `/mcp`); on any other endpoint it is unknown. */
  readonly virtualServer?: string;
  readonly createdAt: number;
  readonly lastSeenAt: number;
}

/**
 * Port for session storage. Adapters enforce the idle TTL with sliding expiry: every `get`
 * of a live session extends it. Implementations: memory (one process), Hazelcast (a cluster).
 */
export interface SessionStore {
  create(record: SessionRecord): Promise<void>;
  /**
   * Create the record unless `owner` already holds `max` live sessions; false (nothing created)
   * then. Exact across every instance sharing the store: two instances creating a session for one
   * owner at once never both pass at `max - 1`. Sessions deleted or expired free their places.
   * Only `initialize` pays for the count.
   */
  createWithin(record: SessionRecord, owner: string, max: number): Promise<boolean>;
  /**
   * Create the record unless a live one has its id, atomically across instances; returns the
   * record the store holds now (the existing one, or `record`). For ids that two requests may
   * compute at once (gateway-held records): the second must not overwrite backend sessions the
   * first has opened.
   */
  createIfAbsent(record: SessionRecord): Promise<SessionRecord>;
  /** The live session, touched; undefined when unknown or expired. */
  get(id: string): Promise<SessionRecord | undefined>;
  /**
   * The session as the store holds it now, never a local copy that may predate another
   * instance's change (before opening a backend session, which another instance may just have
   * opened). Not touched.
   */
  current(id: string): Promise<SessionRecord | undefined>;
  /** Remember (or with `undefined`, forget) the backend session a client session holds. */
  setBackendSession(id: string, backend: string, session: BackendSession | undefined): Promise<void>;
  setLogLevel(id: string, level: string): Promise<void>;
  /** Remember a task one of the session's calls created (the id the client sees). */
  addTask(id: string, taskId: string): Promise<void>;
  /** Forget tasks the session can no longer reach (their backend no longer knows them): a listing stops reading them. */
  forgetTasks(id: string, taskIds: readonly string[]): Promise<void>;
  /** Remember a backend request relayed to the client under `relayId`. */
  addRelay(id: string, relayId: string, relay: PendingRelay): Promise<void>;
  /**
   * Remove and return a pending relay, atomically across instances: of the client's answer, its
   * cancellation and the timeout, exactly one gets it.
   */
  takeRelay(id: string, relayId: string): Promise<PendingRelay | undefined>;
  /**
   * Hand a message to whichever instance waits for it under `key` of session `id` (a client's
   * answer to a relay whose call runs elsewhere, the cancellation of a held call): every
   * instance's `onHandoff` listeners hear of it at once, and it is kept for `takeHandoff` for
   * `ttlMs` (in case an instance missed the event).
   */
  handOff(id: string, key: string, message: Handoff, ttlMs: number): Promise<void>;
  /** Remove and return a handed-off message; undefined when none (taken, expired, never sent). */
  takeHandoff(id: string, key: string): Promise<Handoff | undefined>;
  /**
   * Called with each message handed off by any instance (this one included), and again with the
   * ones still kept after the store lost and regained its cluster (events may have been missed).
   */
  onHandoff(listener: (id: string, key: string, message: Handoff) => void): void;
  /** Remove the session; returns what it held so its backend sessions can be closed. */
  delete(id: string): Promise<SessionRecord | undefined>;
  /** Called with each session that expires, so its backend sessions can be closed. */
  onExpired(listener: (record: SessionRecord) => void): void;
  size(): Promise<number>;
  close(): Promise<void>;
  /**
   * Whether other gateway instances share the store (Hazelcast): what one instance hands off may
   * be for a client another one serves. Absent: this process alone (memory).
   */
  readonly shared?: boolean;
  /**
   * Who follows which backend session among the instances sharing the store, so another takes a
   * following over when its instance stops (Hazelcast); absent: this process alone (memory).
   */
  readonly follows?: FollowLeases;
  /** Whether the store can be reached now (readiness); absent: always (a local store). */
  isConnected?(): boolean;
}

/** The record holding (or, with `undefined`, no longer holding) a backend session. */
export function withBackendSession(r: SessionRecord, backend: string, session: BackendSession | undefined): SessionRecord {
  const backendSessions = { ...r.backendSessions };
  if (session) backendSessions[backend] = session;
  else delete backendSessions[backend];
  return { ...r, backendSessions };
}

/** How many task ids a session remembers; the oldest are forgotten first. */
const MAX_TASKS = 256;

/** The record with one more task it may reach. */
export function withTask(r: SessionRecord, taskId: string): SessionRecord {
  const tasks = [...(r.tasks ?? []).filter((t) => t !== taskId), taskId];
  return { ...r, tasks: tasks.slice(-MAX_TASKS) };
}

/** The record without the given tasks. */
export function withoutTasks(r: SessionRecord, taskIds: readonly string[]): SessionRecord {
  const gone = new Set(taskIds);
  return { ...r, tasks: (r.tasks ?? []).filter((t) => !gone.has(t)) };
}

/** How long a pending relay outlives its expiry, so the instance whose timer gave up still finds it. */
const RELAY_GRACE_MS = 60_000;

/**
 * The record with (or, with `undefined`, without) a pending relay; ones long expired (an instance
 * that relayed them went away) are dropped on the way.
 */
export function withRelay(r: SessionRecord, relayId: string, relay: PendingRelay | undefined, now = Date.now()): SessionRecord {
  const relays: Record<string, PendingRelay> = {};
  for (const [k, v] of Object.entries(r.relays ?? {})) if (v.expiresAt + RELAY_GRACE_MS > now && k !== relayId) relays[k] = v;
  if (relay) relays[relayId] = relay;
  return { ...r, relays };
}

/** Where a handed-off message is kept: the session id first (ids never hold a NUL). */
export function handoffKey(id: string, key: string): string {
  return `${id}\u0000${key}`;
}

/** A new session of `principal`, created now, holding no backend session yet. */
export function newSessionRecord(principal: Principal, protocolVersion: string, client: { capabilities?: Record<string, unknown>; info?: Record<string, unknown> } = {}): SessionRecord {
  const now = Date.now();
  return {
    id: newSessionId(),
    principal,
    protocolVersion,
    clientCapabilities: client.capabilities ?? {},
    ...(client.info ? { clientInfo: client.info } : {}),
    backendSessions: {},
    createdAt: now,
    lastSeenAt: now,
  };
}

/** A new session id: 256 random bits, URL-safe visible ASCII as the transport spec requires. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}
