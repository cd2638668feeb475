import type { Caller } from '../auth/caller.js';
import type { ErrorCode } from '../errors.js';
import type { JsonRpcId } from '../mcp/jsonrpc.js';
import type { PolicyKind } from '../mcp/methods.js';
import type { SessionRecord } from '../session/store.js';
import type { GatewayRequest } from './decision.js';

/**
 * What admission learned about a request before deciding it, filled in as it goes, so a denial
 * can say who was refused and for what. Hot paths only assign fields.
 */
export interface Trail {
  /** `performance.now()` when admission began. */
  readonly startedAt: number;
  caller?: Caller;
  /** The Mcp-Session-Id as presented (also when unknown). */
  sessionId?: string;
  session?: SessionRecord;
  method?: string;
  requestId?: JsonRpcId;
  tool?: string;
  /** What a routed request asks for, and its URI or name (tools: `tool`). */
  kind?: PolicyKind;
  target?: string;
  backend?: string;
  arguments?: Record<string, unknown>;
  /** The virtual server the request came through (null: `/mcp`); unset before admission knew it. */
  virtualServer?: string | null;
  /** Set where admission refuses with a JSON-RPC error or a tool error (HTTP rejects are known by their code). */
  denied?: { readonly code: ErrorCode; readonly reason: string | null };
}

/** One refused request, for the audit trail and the denial metrics. */
export interface Denial {
  readonly code: ErrorCode;
  /** HTTP status of the answer (200 when the refusal travels as a JSON-RPC or tool error). */
  readonly status: number;
  readonly reason: string | null;
  readonly request: GatewayRequest;
  readonly trail: Readonly<Trail>;
}

/** Told of every denial admission decides (src/telemetry implements it; so will the Envoy adapter's core). */
export interface AdmissionObserver {
  denied(denial: Denial): void;
}

/**
 * HTTP-level refusals that are denials (who may call, which session), as opposed to malformed
 * input. Any refusal of a readable `tools/call` counts too, so every call leaves one event.
 */
export const DENIAL_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  'GW_HOST_NOT_ALLOWED',
  'GW_ORIGIN_NOT_ALLOWED',
  'GW_UNAUTHORIZED',
  'GW_INSUFFICIENT_SCOPE',
  'GW_AUTH_UNAVAILABLE',
  'GW_SESSION_NOT_FOUND',
]);
