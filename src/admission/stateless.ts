/**
 * Admission of stateless (2026-07-28) requests: a POST without `Mcp-Session-Id` whose body claims
 * a protocol revision in `params._meta` (or whose `MCP-Protocol-Version` names a stateless one).
 * The checks run in the order the specification's transport and the SDKs' validation ladder use:
 * header/body version agreement, the revision, the `_meta` envelope, the method (404), the
 * mirrored headers; then the request is decided like a session's, with the caller's
 * gateway-held session record standing in for the session (src/session/held.ts), and a retried
 * MRTR request's `requestState` opened and bound to it.
 */
import type { Caller } from '../auth/caller.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { ERRORS, wireError, type ErrorCode } from '../errors.js';
import { eraOf, PARAM_INPUT_RESPONSES, PARAM_REQUEST_STATE, STATELESS_PROTOCOL_VERSIONS, TASKS_EXTENSION } from '../mcp/era.js';
import { isObject, isRequest, type JsonRpcId, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { describeMethod, describeMethodIn, type MethodSpec } from '../mcp/methods.js';
import { SUPPORTED_PROTOCOL_VERSIONS, HEADER_PROTOCOL_VERSION } from '../mcp/protocol.js';
import { claimedVersion, readRequestMeta, withoutStatelessParams } from '../mcp/request-meta.js';
import { paramHeaderMismatch, standardHeaderMismatch } from '../mcp/stateless-headers.js';
import { statelessResponse, type ServerInfo } from '../mcp/stateless-results.js';
import { taskCall } from './stateless-tasks.js';
import { declaresExtension, requiredExtension } from '../mcp/client-capabilities.js';
import { heldSession, heldSessionId } from '../session/held.js';
import { openRound } from '../session/request-state.js';
import type { StateKeys } from '../session/state-key.js';
import { ANONYMOUS, samePrincipal, type SessionRecord, type SessionStore } from '../session/store.js';
import type { Decision, GatewayRequest } from './decision.js';
import type { Trail } from './observer.js';
import type { StatelessConfirmations } from '../confirm/stateless.js';

/** How protocol revisions are named: a date. */
const REVISION = /^\d{4}-\d{2}-\d{2}$/;

/** Every revision the gateway speaks, as a stateless client is told when it asks for another. */
export const ALL_SUPPORTED_VERSIONS: readonly string[] = [...STATELESS_PROTOCOL_VERSIONS, ...SUPPORTED_PROTOCOL_VERSIONS];

export interface StatelessOptions {
  readonly sessions: SessionStore;
  readonly keys: StateKeys;
  readonly serverInfo: ServerInfo;
  readonly maxClientInfoBytes: number;
  /** Calls the policy asks to confirm (src/confirm/stateless.ts); absent: they are refused as unavailable. */
  readonly confirmations?: StatelessConfirmations;
  /** The catalog as the request's endpoint (`/mcp` or a virtual server) shows it. */
  readonly catalog: (req: GatewayRequest) => CatalogSnapshot;
  /** Serve tasks to anonymous callers too (`stateless.anonymousTasks`), who share one held record. */
  readonly anonymousTasks?: boolean;
}

/** What the session path of admission does with a request once its session (here: the held record) is known. */
export type Dispatch = (spec: MethodSpec, r: { req: GatewayRequest; caller: Caller; message: JsonRpcRequest; trail: Trail; session: SessionRecord | null }) => Decision | Promise<Decision>;

/** Whether a request comes from a stateless client: no session, and a stateless revision in its body or header. */
export function isStatelessRequest(req: GatewayRequest, message: JsonRpcMessage | undefined): boolean {
  if (req.headers['mcp-session-id'] !== undefined) return false;
  const claimed = message && 'method' in message ? claimedVersion(message.params) : undefined;
  if (claimed !== undefined) return true;
  // A header alone counts only when it names a revision (a date) of the stateless era; anything else stays the session era's to refuse.
  const header = req.headers[HEADER_PROTOCOL_VERSION];
  return header !== undefined && REVISION.test(header) && eraOf(header) === 'stateless';
}

/** A refusal of a stateless request at the HTTP level, with the registry's status and the request id. */
function refused(code: ErrorCode, id: JsonRpcId | null, detail: string, data?: Record<string, unknown>, trail?: Trail): Decision {
  if (trail) trail.denied = { code, reason: detail };
  return { kind: 'reject', code, status: ERRORS[code].status, body: wireError(code, id, detail, data) };
}

/** A caller without authentication: every such stateless client shares one held record. */
function isAnonymous(caller: Caller): boolean {
  return samePrincipal(caller.principal, ANONYMOUS);
}

export class StatelessAdmission {
  constructor(private readonly opts: StatelessOptions) {}

  /** Whether this caller gets no tasks: anonymous callers share a held record, unless the operator allows it. */
  private tasksRefused(caller: Caller): boolean {
    return isAnonymous(caller) && !this.opts.anonymousTasks;
  }

  /** Decide one stateless POST. */
  async post(req: GatewayRequest, caller: Caller, trail: Trail, message: JsonRpcMessage, dispatch: Dispatch): Promise<Decision> {
    if (!isRequest(message)) {
      // Stateless clients send no responses (there are no server requests to answer); their notifications need nothing.
      if ('method' in message) return { kind: 'acknowledge' };
      return refused('GW_INVALID_REQUEST', null, 'a stateless client sends requests and notifications only');
    }
    const { id } = message;
    const body = claimedVersion(message.params);
    const header = req.headers[HEADER_PROTOCOL_VERSION];
    if (body !== undefined && header !== undefined && body !== header) {
      return refused('GW_HEADER_MISMATCH', id, `MCP-Protocol-Version header '${header}' does not match body value '${body}'`, undefined, trail);
    }
    const version = body ?? header!;
    if (!STATELESS_PROTOCOL_VERSIONS.includes(version)) {
      return refused('GW_UNSUPPORTED_REVISION', id, `"${version}"`, { supported: ALL_SUPPORTED_VERSIONS, requested: version }, trail);
    }
    const meta = readRequestMeta(message, this.opts.maxClientInfoBytes);
    if (!meta.ok) return refused('GW_META_INVALID', id, meta.detail, undefined, trail);
    const spec = describeMethodIn(message.method, 'stateless');
    if (!spec) {
      const other = describeMethod(message.method) ? ' (it exists only with sessions)' : '';
      return refused('GW_UNKNOWN_METHOD', id, `"${message.method}"${other}`, undefined, trail);
    }
    const mismatch = standardHeaderMismatch(req.headers, message, version, spec) ?? this.paramMismatch(req, message);
    if (mismatch) return refused('GW_HEADER_MISMATCH', id, mismatch, undefined, trail);
    const ext = spec.statelessExtension;
    if (ext && !declaresExtension(meta.meta.clientCapabilities, ext)) {
      return refused('GW_CAPABILITY_REQUIRED', id, `${message.method} needs the ${ext} extension in clientCapabilities.extensions`, requiredExtension(ext), trail);
    }
    // Every anonymous stateless client shares one held record: a task bound to it would be any of theirs to read.
    if (ext === TASKS_EXTENSION && this.tasksRefused(caller)) return refused('GW_TASKS_ANONYMOUS', id, `${message.method}: tasks need an authenticated caller`, undefined, trail);
    let session: SessionRecord;
    try {
      session = await heldSession(this.opts.sessions, heldSessionId(this.opts.keys.name, caller.principal, meta.meta.clientCapabilities), caller.principal, meta.meta);
    } catch {
      return refused('GW_SESSION_STORE_UNAVAILABLE', id, 'the gateway-held session record cannot be read');
    }
    trail.session = session;
    const decision = await dispatch(spec, { req, caller, message: withoutStatelessParams(message), trail, session });
    const confirming = decision.kind === 'call-tool' && decision.confirm && this.opts.confirmations;
    const settled = confirming ? await confirming.settle(decision, message, caller, trail) : undefined;
    // A settled confirmation used the request's state and answers: it continues no held call, and
    // the user's answer to the gateway's question is no answer a backend asked for.
    if (settled) return this.finish(settled, { ...message, params: { ...message.params, [PARAM_REQUEST_STATE]: undefined, [PARAM_INPUT_RESPONSES]: undefined } }, caller, trail, spec);
    return this.finish(decision, message, caller, trail, spec);
  }

  /** A `tools/call`'s `Mcp-Param-*` headers against the tool's `x-mcp-header` parameters, when the catalog has the tool. */
  private paramMismatch(req: GatewayRequest, message: JsonRpcRequest): string | undefined {
    const name = message.params?.name;
    if (message.method !== 'tools/call' || typeof name !== 'string') return undefined;
    const catalog = this.opts.catalog(req);
    const tool = catalog.tools.get(name);
    const args = message.params?.arguments;
    if (!tool || !isObject(args)) return undefined;
    const declared = catalog.paramHeaders(tool);
    return declared.length > 0 ? paramHeaderMismatch(req.headers, declared, args) : undefined;
  }

  /** Answers decided here get the stateless shape; a retry's `requestState` is opened and bound to the call it continues. */
  private finish(d: Decision, original: JsonRpcRequest, caller: Caller, trail: Trail, spec: MethodSpec): Decision {
    if (d.kind === 'respond') return { ...d, body: statelessResponse(d.body, this.opts.serverInfo) };
    if (d.kind !== 'call-tool' && d.kind !== 'forward') return d;
    // `withoutStatelessParams` took the answers off the backend's view: tasks/update's travel with the decision.
    if (spec.answersTask && d.kind === 'forward') {
      const answers = original.params?.[PARAM_INPUT_RESPONSES];
      if (isObject(answers)) return { ...d, taskAnswers: answers };
      trail.denied = { code: 'GW_INVALID_PARAMS', reason: '"inputResponses" must be an object' };
      return { kind: 'respond', session: d.session, body: statelessResponse(wireError('GW_INVALID_PARAMS', original.id, '"inputResponses" must be an object'), this.opts.serverInfo) };
    }
    if (d.kind === 'call-tool') {
      const call = taskCall(d, this.tasksRefused(caller));
      if (!call.ok) return refused(call.code, original.id, call.detail, call.data, trail);
      d = call.decision;
    }
    // A backend's request reaches this client as `input_required`, over JSON as well as SSE.
    const { answerOnly: _json, ...decided } = d;
    const state = original.params?.[PARAM_REQUEST_STATE];
    const answers = original.params?.[PARAM_INPUT_RESPONSES];
    if (state === undefined) return spec.inputRequired && isObject(answers) ? { ...decided, resume: { answers } } : decided;
    const name = d.kind === 'call-tool' ? d.tool.name : d.target.name;
    const opened = spec.inputRequired ? openRound(this.opts.keys.seal, state, { principal: caller.principal, method: original.method, name }) : { ok: false as const, detail: `${original.method} takes no requestState` };
    if (!opened.ok) {
      trail.denied = { code: 'GW_REQUEST_STATE_INVALID', reason: opened.detail };
      return { kind: 'respond', session: d.session, body: statelessResponse(wireError('GW_REQUEST_STATE_INVALID', original.id, opened.detail), this.opts.serverInfo) };
    }
    // The answers travel with the decision: `withoutStatelessParams` took them off the backend's view.
    return { ...decided, resume: { round: opened.round, answers } };
  }
}
