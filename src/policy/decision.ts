import { confirmDecision, type PolicyDecision } from './engine.js';

/** Longest policy message shown to the user (a policy is trusted, but an elicitation is no place for essays). */
const MAX_MESSAGE = 1_000;

/**
 * What OPA's answer at the decision path means. Backward compatible with every shape the gateway
 * took before confirmation: `true`/`false`, or `{allow, reason}`. A decision object that allows
 * and carries `confirm` — `true`, or an object with an optional `message` string — asks the
 * user first; `confirm` beside `allow: false` changes nothing (a denial stays a denial).
 * Anything else is no decision (undefined: the caller fails closed).
 */
export function readDecision(result: unknown): PolicyDecision | undefined {
  if (typeof result === 'boolean') return result ? { allow: true } : { allow: false, reason: 'denied by policy' };
  if (!result || typeof result !== 'object' || typeof (result as { allow?: unknown }).allow !== 'boolean') return undefined;
  const { allow, reason, confirm } = result as { allow: boolean; reason?: unknown; confirm?: unknown };
  if (!allow) return { allow, reason: typeof reason === 'string' ? reason : 'denied by policy' };
  if (confirm === undefined || confirm === false || confirm === null) return { allow };
  if (confirm === true) return confirmDecision(null);
  if (typeof confirm === 'object' && !Array.isArray(confirm)) {
    const message = (confirm as { message?: unknown }).message;
    if (message === undefined || message === null) return confirmDecision(null);
    if (typeof message === 'string') return confirmDecision(message.slice(0, MAX_MESSAGE));
  }
  // A confirmation the gateway cannot read is not taken for a plain allow.
  return undefined;
}
