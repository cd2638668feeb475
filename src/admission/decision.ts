import { ERRORS, wireError, type ErrorCode } from '../errors.js';
import type { CatalogTool } from '../catalog/model.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import type { JsonRpcId, JsonRpcMessage, JsonRpcRequest, JsonRpcResponse } from '../mcp/jsonrpc.js';
import type { ListKind, PolicyKind } from '../mcp/methods.js';
import type { ProtocolVersion } from '../mcp/protocol.js';
import type { Caller } from '../auth/caller.js';
import type { SessionRecord } from '../session/store.js';
import type { SealedRound } from '../session/request-state.js';
import type { ListenFilter } from '../mcp/listen-filter.js';
import type { TraceCarrier } from '../telemetry/trace.js';
import type { Confirmation } from '../policy/engine.js';
import type { ConfirmOutcome } from '../confirm/outcome.js';

/**
 * A transport-neutral request: what the standalone server and the Envoy adapter both know.
 * Header names are lower-case.
 */
export interface GatewayRequest {
  readonly method: string;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** The raw body of a POST (already bounded by the adapter). */
  readonly body?: string;
  /** Size of the body as received, to enforce the limit even when the adapter truncated it. */
  readonly bodyBytes?: number;
  /** Path and query as received (tokens in the query string are refused). */
  readonly url?: string;
  /** The peer's address, for policies (`context.source.ip`). */
  readonly remoteAddress?: string;
}

/**
 * What to do with a request. Only the adapters turn this into HTTP or Envoy mutations.
 * - reject: an HTTP-level error with a JSON-RPC error body (id kept when known);
 * - respond: a complete JSON-RPC answer decided without any backend;
 * - accepted: a notification or response from the client (HTTP 202);
 * - initialize: create a session;
 * - list: answer an aggregated listing (`tools/list`, `resources/list`, …) from the catalog;
 * - call-tool: route `tools/call` to the tool's backend;
 * - forward: route a request by resource URI, prompt name or completion ref to its backend;
 * - list-tasks: a session's `tasks/list`, each of its tasks read from the backend that runs it;
 * - open-stream / end-session: GET and DELETE on the endpoint;
 * - batch: the decisions of a JSON-RPC batch's messages (2025-03-26 sessions only);
 * - discover: answer a stateless client's `server/discover`;
 * - acknowledge: a stateless client's notification (HTTP 202; no session to act on).
 *
 * Decisions for a stateless (2026-07-28) client carry its gateway-held session record, seen with
 * the request's own `_meta` (src/session/held.ts); `resume` names the call a retried MRTR request
 * continues instead of starting a new one.
 */
export type Decision =
  | { kind: 'reject'; code: ErrorCode; status: number; body: JsonRpcResponse; headers?: Record<string, string> }
  | { kind: 'respond'; session: SessionRecord; body: JsonRpcResponse }
  /** `caller`: who answers, when the message answers a backend's request (its credentials reach the backend). */
  | { kind: 'accepted'; session: SessionRecord; message: JsonRpcMessage; caller?: Caller }
  /** `virtualServer`: the endpoint the session is created on (absent: `/mcp`); `instructions`: its initialize instructions. */
  | { kind: 'initialize'; message: JsonRpcRequest; protocolVersion: ProtocolVersion; caller: Caller; sourceIp: string | null; virtualServer?: string; instructions?: string }
  /** `catalog`: the catalog as the request's endpoint shows it (a virtual server's view); absent: the whole catalog. */
  | { kind: 'list'; list: ListKind; session: SessionRecord; message: JsonRpcRequest; cursor: string | undefined; caller: Caller; sourceIp: string | null; catalog?: CatalogSnapshot }
  | { kind: 'set-log-level'; session: SessionRecord; message: JsonRpcRequest; level: string }
  | {
      kind: 'call-tool';
      session: SessionRecord;
      message: JsonRpcRequest;
      tool: CatalogTool;
      arguments: Record<string, unknown>;
      caller: Caller;
      /** The peer's address (audit trail). */
      sourceIp: string | null;
      /** The request's trace context headers, continued to the backend. */
      trace?: TraceCarrier;
      /** The client reads only the final answer (it takes no SSE, or sent a batch): nothing else reaches it during the call. */
      answerOnly?: true;
      /** A stateless client's retry with `inputResponses`: continue this held call. */
      resume?: Resume;
      /** The policy allows the call once the user confirms it (docs/confirmation.md): the broker asks first. */
      confirm?: Confirmation;
      /** How the confirmation already ended (a stateless client's retry, a client that cannot be asked); all but `accepted` are answered without the backend. */
      confirmed?: ConfirmOutcome;
    }
  | {
      kind: 'forward';
      session: SessionRecord;
      message: JsonRpcRequest;
      target: RoutedTarget;
      caller: Caller;
      /** The peer's address (audit trail). */
      sourceIp: string | null;
      /** The request's trace context headers, continued to the backend. */
      trace?: TraceCarrier;
      /** The client reads only the final answer (it takes no SSE, or sent a batch): nothing else reaches it during the call. */
      answerOnly?: true;
      /** A stateless client's retry with `inputResponses`: continue this held call. */
      resume?: Resume;
      /** A stateless client's `tasks/update`: its answers to the task's input requests. */
      taskAnswers?: Record<string, unknown>;
    }
  | {
      kind: 'list-tasks';
      session: SessionRecord;
      message: JsonRpcRequest;
      /** The session's task ids (as the client sees them) the caller may read now. */
      tasks: readonly string[];
      cursor: string | undefined;
      caller: Caller;
      /** The peer's address (audit trail of each task read). */
      sourceIp: string | null;
      /** The request's trace context headers, continued to the backends. */
      trace?: TraceCarrier;
    }
  /** `instructions`: the virtual server's, when the request came through one that has them. */
  | { kind: 'discover'; message: JsonRpcRequest; caller: Caller; instructions?: string }
  /**
   * A stateless client's `subscriptions/listen`: list changes as `filter` asks, and the resources
   * it may subscribe to, each as the `resources/subscribe` decision sent in its held record.
   */
  | { kind: 'listen'; session: SessionRecord; message: JsonRpcRequest; filter: ListenFilter; subscribe: readonly Extract<Decision, { kind: 'forward' }>[] }
  | { kind: 'acknowledge' }
  /** `lastEventId`: the client resumes a stream (`Last-Event-ID`); the broker checks it is the session's. */
  | { kind: 'open-stream'; session: SessionRecord; lastEventId?: string }
  | { kind: 'end-session'; session: SessionRecord }
  /** A JSON-RPC batch of a 2025-03-26 session: each message decided (and audited) on its own, in order. */
  | { kind: 'batch'; session: SessionRecord; decisions: readonly Decision[] };

/**
 * A retried MRTR request: what its sealed state names (a held call, or a stateless backend's own
 * state passed through), and the client's `inputResponses`. Without `round` the request brought
 * `inputResponses` but no `requestState`: a stateless backend gets them as they are (it may need
 * no state), a held call cannot be named so the call starts afresh.
 */
export interface Resume {
  readonly round?: SealedRound;
  readonly answers: unknown;
}

/** Where a routed request goes, and how it reads there. */
export interface RoutedTarget {
  readonly backend: string;
  readonly kind: PolicyKind;
  /** The URI or name as the client named it. */
  readonly name: string;
  /** The params in the backend's terms: its own URI, prompt name or completion ref. */
  readonly params: Record<string, unknown>;
  /** What the audit trail records as arguments (a prompt's arguments, a completion's argument). */
  readonly arguments: Record<string, unknown>;
}

/** A request refused at the HTTP level. */
export type Refusal = Extract<Decision, { kind: 'reject' }>;

/** A rejection with the registry's status and JSON-RPC error body, keeping the request id when known. */
export function reject(code: ErrorCode, id: JsonRpcId | null = null, detail?: string, headers?: Record<string, string>): Refusal {
  const d: Refusal = { kind: 'reject', code, status: ERRORS[code].status, body: wireError(code, id, detail) };
  if (headers) d.headers = headers;
  return d;
}
