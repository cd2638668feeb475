import type { Authenticator } from '../auth/authenticator.js';
import { missingScopes, type Caller } from '../auth/caller.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { wireError } from '../errors.js';
import { isObject, success, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { PolicyEngine } from '../policy/engine.js';
import { policySubject, toolPart } from '../policy/input.js';
import type { SessionRecord } from '../session/store.js';
import { traceCarrier } from '../telemetry/trace.js';
import { reject, type Decision, type GatewayRequest } from './decision.js';
import type { Trail } from './observer.js';

export interface ToolCallContext {
  readonly req: GatewayRequest;
  readonly caller: Caller;
  readonly session: SessionRecord;
  readonly message: JsonRpcRequest;
  readonly catalog: CatalogSnapshot;
  readonly authenticator: Authenticator;
  readonly policy: PolicyEngine;
  /** Filled with the tool and arguments, and the reason of a refusal, for the audit trail. */
  readonly trail?: Trail;
}

/**
 * Decide a `tools/call`, cheapest checks first: unknown tools are protocol errors (-32602);
 * arguments that violate the input schema are tool errors (`isError`) so the model can correct
 * itself; a token without the backend's scopes gets 403 `insufficient_scope`; then the policy.
 * No backend is called before all of them pass.
 */
export async function toolCallDecision(c: ToolCallContext): Promise<Decision> {
  const { session, message, catalog, trail } = c;
  const params = message.params ?? {};
  const name = params.name;
  if (typeof name !== 'string') return refuse(c, 'GW_INVALID_PARAMS', '"name" must be a string');
  if (trail) trail.tool = name;
  const args = params.arguments ?? {};
  if (!isObject(args)) return refuse(c, 'GW_INVALID_PARAMS', '"arguments" must be an object');
  if (trail) trail.arguments = args;
  const tool = catalog.tools.get(name);
  if (!tool) return refuse(c, 'GW_UNKNOWN_TOOL', `"${name}"`);
  if (trail) trail.backend = tool.backend;
  const problem = catalog.argumentCheck(tool)?.(args) ?? null;
  if (problem !== null) {
    if (trail) trail.denied = { code: 'GW_ARGUMENTS_INVALID', reason: problem };
    return {
      kind: 'respond',
      session,
      body: success(message.id, {
        content: [{ type: 'text', text: `Invalid arguments for tool "${name}": ${problem}. Fix the arguments and call the tool again.` }],
        isError: true,
      }),
    };
  }
  const needed = catalog.backends.get(tool.backend)?.requiredScopes ?? [];
  const missing = missingScopes(c.caller, needed);
  if (missing.length > 0) {
    const denied = c.authenticator.insufficientScope(c.req, missing);
    return reject(denied.code, message.id, denied.detail, denied.headers);
  }
  // The input document is built only for an engine that reads it (not on allow-all's hot path).
  const verdict = c.policy.allowsAll
    ? { allow: true as const }
    : await c.policy.decide({ ...policySubject(c.caller, session, c.req.remoteAddress ?? null), ...toolPart(tool, args) });
  if (!verdict.allow) {
    const code = verdict.unavailable ? 'GW_POLICY_UNAVAILABLE' : 'GW_POLICY_DENIED';
    if (trail) trail.denied = { code, reason: verdict.reason ?? null };
    return { kind: 'respond', session, body: wireError(code, message.id, verdict.reason, { reason: verdict.reason ?? null }) };
  }
  const decision: Extract<Decision, { kind: 'call-tool' }> = { kind: 'call-tool', session, message, tool, arguments: args, caller: c.caller, sourceIp: c.req.remoteAddress ?? null };
  const trace = traceCarrier(c.req.headers);
  if (trace) decision.trace = trace;
  return decision;
}

/** A JSON-RPC error for a malformed call (-32602), noted in the trail as a denial. */
function refuse(c: ToolCallContext, code: 'GW_INVALID_PARAMS' | 'GW_UNKNOWN_TOOL', detail: string): Decision {
  if (c.trail) c.trail.denied = { code, reason: detail };
  return { kind: 'respond', session: c.session, body: wireError(code, c.message.id, detail) };
}
