/**
 * How a confirmation ends, and what the client gets when it does not end in `accepted`: a tool
 * error (so the model learns the user said no) under a distinct registry code per outcome.
 */
import type { ErrorCode } from '../errors.js';
import { missingCapability } from '../mcp/client-capabilities.js';
import { isObject, success, type JsonRpcId, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { toolError } from '../upstream/results.js';

/** `accepted`: the call went on; the others: it was answered without the backend. */
export type ConfirmOutcome = 'accepted' | 'declined' | 'cancelled' | 'timeout' | 'unavailable';

/** Where a call that needs confirmation stands; `asked` while the question is open (the audit's value when the client went away). */
export interface ConfirmationState {
  outcome: ConfirmOutcome | 'asked';
}

const CODES: Readonly<Record<Exclude<ConfirmOutcome, 'accepted'>, ErrorCode>> = {
  declined: 'GW_CONFIRMATION_DECLINED',
  cancelled: 'GW_CONFIRMATION_CANCELLED',
  timeout: 'GW_CONFIRMATION_TIMEOUT',
  unavailable: 'GW_CONFIRMATION_UNAVAILABLE',
};

/** The field of the confirmation form the user ticks. */
export const CONFIRM_FIELD = 'confirm';

/** The tool error a refused confirmation is answered with, under the request's id. */
export function refusal(id: JsonRpcId, outcome: Exclude<ConfirmOutcome, 'accepted'>, detail?: string): JsonRpcResponse {
  return success(id, toolError(CODES[outcome], detail));
}

/**
 * What the client's answer to the confirmation means: `accept` with the confirm field true goes
 * on; `accept` without it is a decline (the user left the box unticked); an error answer counts
 * as cancelled, unless it is the gateway's own timeout.
 */
export function readAnswer(response: JsonRpcResponse | unknown): { outcome: ConfirmOutcome; detail?: string } {
  if (isObject(response) && isObject(response.error)) {
    const data = response.error.data;
    if (isObject(data) && data.code === 'GW_RELAY_TIMEOUT') return { outcome: 'timeout' };
    return { outcome: 'cancelled', detail: `the client answered with an error: ${String(response.error.message).slice(0, 200)}` };
  }
  const result = isObject(response) && isObject(response.result) ? response.result : response;
  if (!isObject(result)) return { outcome: 'cancelled', detail: 'the client gave no answer' };
  switch (result.action) {
    case 'accept':
      return isObject(result.content) && result.content[CONFIRM_FIELD] === true ? { outcome: 'accepted' } : { outcome: 'declined', detail: 'the confirmation was not ticked' };
    case 'decline':
      return { outcome: 'declined' };
    case 'cancel':
      return { outcome: 'cancelled' };
    default:
      return { outcome: 'cancelled', detail: 'the client answered with no known action' };
  }
}

/** Why this client cannot be asked to confirm (it did not declare form-mode elicitation), or undefined when it can. */
export function cannotAsk(capabilities: Readonly<Record<string, unknown>>): string | undefined {
  return missingCapability(capabilities, { jsonrpc: '2.0', id: 0, method: 'elicitation/create', params: {} });
}
