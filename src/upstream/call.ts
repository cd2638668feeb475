import type { Decision } from '../admission/decision.js';
import type { CatalogTool } from '../catalog/model.js';
import type { JsonRpcMessage, JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { SessionRecord } from '../session/store.js';
import type { BackendDescriptor } from '../catalog/model.js';
import type { Caller } from '../auth/caller.js';
import type { TraceCarrier } from '../telemetry/trace.js';
import type { ConfirmationState } from '../confirm/outcome.js';
import { describeMethod, type PolicyKind } from '../mcp/methods.js';

/** What every request the gateway sends on to a backend carries, whatever its method. */
export interface UpstreamCall {
  readonly session: SessionRecord;
  readonly backend: BackendDescriptor;
  /** The client's request (its id is the one the final response carries). */
  readonly request: JsonRpcRequest;
  /** What the audit trail records as the request's arguments (redacted there). */
  readonly arguments: Record<string, unknown>;
  /**
   * The prefix under which the resource URIs the answer names are exposed (src/catalog/uris.ts):
   * the backend's, when it serves resources under a namespace; absent or "": URIs pass unchanged.
   */
  readonly uriPrefix?: string;
  /** The verified caller (identity headers for backends that want them). */
  readonly caller: Caller;
  /** Aborted when the client disconnects or cancels, or (through the executor's Deadline) on timeout. */
  readonly abort: AbortController;
  /** The client request's trace context headers (for telemetry, which turns them into `outboundHeaders`). */
  readonly trace?: TraceCarrier;
  /** The peer's address (audit trail). */
  readonly sourceIp?: string | null;
  /** Headers every outbound request of the call carries (the trace context it continues). */
  readonly outboundHeaders?: Readonly<Record<string, string>>;
  /** Told each instance the call is sent to, in order; the last one served the call or failed it. */
  readonly onInstance?: (url: string) => void;
  /** The client reads only the final answer: a backend's request during the call cannot reach it. */
  readonly answerOnly?: boolean;
}

/** Everything an executor needs to run one `tools/call`. */
export interface ToolCall extends UpstreamCall {
  readonly tool: CatalogTool;
  /** Present when the policy asked the user to confirm the call: how that stands (audited). */
  readonly confirmation?: ConfirmationState;
}

/**
 * A request routed to a native backend by resource URI, prompt name or completion ref
 * (`resources/read`, `prompts/get`, `completion/complete`, …), with the params the backend sees.
 */
export interface RoutedCall extends UpstreamCall {
  readonly kind: PolicyKind;
  /** The URI or name as the client named it (audit, spans). */
  readonly target: string;
  /** The request's params in the backend's terms (its URI, prompt name or ref). */
  readonly params: Record<string, unknown>;
  /** Follow the backend session once the request succeeds (see `followsBackend` in src/mcp/methods.ts). */
  readonly follow?: boolean;
}

/** Runs a routed request; yields notifications, then exactly one response with the client's id. */
export type RoutedExecutor = (call: RoutedCall) => AsyncGenerator<JsonRpcMessage>;

/** The request an admitted `forward` decision stands for, to `backend`, cancelled through `abort`. */
export function routedCallOf(d: Extract<Decision, { kind: 'forward' }>, backend: BackendDescriptor, abort: AbortController): RoutedCall {
  const { target } = d;
  return {
    session: d.session,
    backend,
    request: d.message,
    arguments: target.arguments,
    caller: d.caller,
    abort,
    sourceIp: d.sourceIp,
    kind: target.kind,
    target: target.name,
    params: target.params,
    ...(describeMethod(d.message.method)?.followsBackend ? { follow: true } : {}),
    ...(d.trace ? { trace: d.trace } : {}),
    ...(d.answerOnly ? { answerOnly: true } : {}),
  };
}

/** The call an admitted `tools/call` decision stands for, to `backend`, cancelled through `abort`. */
export function toolCallOf(d: Extract<Decision, { kind: 'call-tool' }>, backend: BackendDescriptor, abort: AbortController): ToolCall {
  return {
    session: d.session,
    tool: d.tool,
    backend,
    request: d.message,
    arguments: d.arguments,
    caller: d.caller,
    abort,
    sourceIp: d.sourceIp,
    ...(d.trace ? { trace: d.trace } : {}),
    ...(d.answerOnly ? { answerOnly: true } : {}),
    ...(d.confirm || d.confirmed ? { confirmation: { outcome: d.confirmed ?? 'asked' } } : {}),
  };
}

/**
 * Runs a tool call against a backend. Yields notifications for the client as they happen,
 * then exactly one response carrying the client's request id.
 */
export type ToolExecutor = (call: ToolCall) => AsyncGenerator<JsonRpcMessage>;

/** The client's progress token for a request, if it asked for progress. */
export function progressToken(request: JsonRpcRequest): string | number | undefined {
  const meta = request.params?._meta as { progressToken?: unknown } | undefined;
  const t = meta?.progressToken;
  return typeof t === 'string' || typeof t === 'number' ? t : undefined;
}
