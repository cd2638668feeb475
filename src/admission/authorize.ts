import type { Authenticator } from '../auth/authenticator.js';
import { missingScopes, type Caller } from '../auth/caller.js';
import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { wireError, type ErrorCode } from '../errors.js';
import type { JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { Confirmation, PolicyEngine } from '../policy/engine.js';
import { policySubject, type PolicyItem } from '../policy/input.js';
import type { SessionRecord } from '../session/store.js';
import { reject, type Decision, type GatewayRequest } from './decision.js';
import type { Trail } from './observer.js';

/** What deciding a request routed to a backend needs: the request, its session, and the core's parts. */
export interface RequestContext {
  readonly req: GatewayRequest;
  readonly caller: Caller;
  readonly session: SessionRecord;
  readonly message: JsonRpcRequest;
  readonly catalog: CatalogSnapshot;
  readonly authenticator: Authenticator;
  readonly policy: PolicyEngine;
  /** Filled with what is asked for, and the reason of a refusal, for the audit trail. */
  readonly trail?: Trail;
  /** False for a method whose description asks the policy nothing (src/mcp/methods.ts); default true. */
  readonly asksPolicy?: boolean;
  /** Whether the caller's listing shows a tool or prompt; absent: nothing is hidden (`policy.hideUnlisted` off, or allow-all). */
  readonly canSee?: (list: 'tools' | 'prompts', name: string) => Promise<boolean>;
}

/** The scopes of `backend`'s `requiredScopes` the caller's token lacks (none: it may reach the backend). */
export function missingBackendScopes(c: RequestContext, backend: string): readonly string[] {
  return missingScopes(c.caller, c.catalog.backends.get(backend)?.requiredScopes ?? []);
}

/**
 * The checks every routed request passes after its own: the backend's required scopes (403
 * `insufficient_scope`), then the policy on `item` (unless the method asks none). Null when both allow; otherwise the refusal,
 * keeping the request id. A policy that allows once the user confirms is told to `onConfirm`
 * (tool calls) and counts as allowed; without `onConfirm` it is a denial.
 */
export async function authorize(c: RequestContext, backend: string, item: PolicyItem, onConfirm?: (confirm: Confirmation) => void): Promise<Decision | null> {
  const missing = missingBackendScopes(c, backend);
  if (missing.length > 0) {
    const denied = c.authenticator.insufficientScope(c.req, missing);
    return reject(denied.code, c.message.id, denied.detail, denied.headers);
  }
  if (c.policy.allowsAll || c.asksPolicy === false) return null;
  // The input document is built only for an engine that reads it (not on allow-all's hot path).
  const verdict = await c.policy.decide({ ...policySubject(c.caller, c.session, c.req.remoteAddress ?? null, c.message.id), ...item });
  if (verdict.allow) return null;
  if (verdict.confirm && onConfirm) {
    onConfirm(verdict.confirm);
    return null;
  }
  const code = verdict.unavailable ? 'GW_POLICY_UNAVAILABLE' : 'GW_POLICY_DENIED';
  if (c.trail) c.trail.denied = { code, reason: verdict.reason ?? null };
  return { kind: 'respond', session: c.session, body: wireError(code, c.message.id, verdict.reason, { reason: verdict.reason ?? null }) };
}

/**
 * A tool or prompt the caller's listing does not show is answered exactly as a name nobody
 * publishes (`unknown`), before anything else about it is checked: its arguments, its backend's
 * scopes or the policy's reasons would tell a caller probing names which hidden ones exist and
 * what they take. The audit notes a policy denial. Null when it is listed (or hiding is off).
 */
export async function hiddenFrom(c: RequestContext, list: 'tools' | 'prompts', name: string, unknown: ErrorCode): Promise<Decision | null> {
  if (!c.canSee || (await c.canSee(list, name))) return null;
  if (c.trail) c.trail.denied = { code: 'GW_POLICY_DENIED', reason: `"${name}" is not listed for this caller` };
  return { kind: 'respond', session: c.session, body: wireError(unknown, c.message.id, `"${name}"`) };
}

/** A JSON-RPC error for a malformed or unroutable request, noted in the trail as a denial. */
export function refuse(c: RequestContext, code: ErrorCode, detail: string): Decision {
  if (c.trail) c.trail.denied = { code, reason: detail };
  return { kind: 'respond', session: c.session, body: wireError(code, c.message.id, detail) };
}
