import type { Authenticator } from '../auth/authenticator.js';
import { missingScopes, type Caller } from '../auth/caller.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { ERRORS, wireError } from '../errors.js';
import { success, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { PolicyEngine } from '../policy/engine.js';
import { policySubject, toolPart } from '../policy/input.js';
import type { SessionRecord } from '../session/store.js';
import type { Decision, GatewayRequest } from './decision.js';

export interface ToolCallContext {
  readonly req: GatewayRequest;
  readonly caller: Caller;
  readonly session: SessionRecord;
  readonly message: JsonRpcRequest;
  readonly catalog: CatalogSnapshot;
  readonly authenticator: Authenticator;
  readonly policy: PolicyEngine;
}

/**
 * Decide a `tools/call`, cheapest checks first: unknown tools are protocol errors (-32602);
 * arguments that violate the input schema are tool errors (`isError`) so the model can correct
 * itself; a token without the backend's scopes gets 403 `insufficient_scope`; then the policy.
 * No backend is called before all of them pass.
 */
export async function toolCallDecision(c: ToolCallContext): Promise<Decision> {
  const { session, message, catalog } = c;
  const params = message.params ?? {};
  const name = params.name;
  if (typeof name !== 'string') return { kind: 'respond', session, body: wireError('GW_INVALID_PARAMS', message.id, '"name" must be a string') };
  const args = params.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { kind: 'respond', session, body: wireError('GW_INVALID_PARAMS', message.id, '"arguments" must be an object') };
  }
  const tool = catalog.tools.get(name);
  if (!tool) return { kind: 'respond', session, body: wireError('GW_UNKNOWN_TOOL', message.id, `"${name}"`) };
  const problem = catalog.argumentCheck(tool)?.(args) ?? null;
  if (problem !== null) {
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
    return { kind: 'reject', code: denied.code, status: ERRORS[denied.code].status, body: wireError(denied.code, message.id, denied.detail), headers: denied.headers };
  }
  const input = { ...policySubject(c.caller, session, c.req.remoteAddress ?? null), ...toolPart(tool, args as Record<string, unknown>) };
  const verdict = await c.policy.decide(input);
  if (!verdict.allow) {
    const code = verdict.unavailable ? 'GW_POLICY_UNAVAILABLE' : 'GW_POLICY_DENIED';
    return { kind: 'respond', session, body: wireError(code, message.id, verdict.reason, { reason: verdict.reason ?? null }) };
  }
  return { kind: 'call-tool', session, message, tool, arguments: args as Record<string, unknown>, caller: c.caller };
}
