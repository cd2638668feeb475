/**
 * Confirmation for session-era clients: before the call goes to its backend, the gateway sends
 * `elicitation/create` on the call's own SSE stream (as a relay: src/upstream/client-relay.ts),
 * waits for the user, and runs the call only on `accept` with the box ticked.
 */
import type { Decision } from '../admission/decision.js';
import { eraOf } from '../mcp/era.js';
import type { JsonRpcMessage, JsonRpcResponse } from '../mcp/jsonrpc.js';
import type { Confirmation } from '../policy/engine.js';
import type { Redactor } from '../telemetry/redact.js';
import { GATEWAY_ASKS, type ClientRelay } from '../upstream/client-relay.js';
import type { ToolCall, ToolExecutor } from '../upstream/call.js';
import { confirmationForm } from './form.js';
import { readAnswer, refusal, type ConfirmOutcome } from './outcome.js';

export interface SessionConfirmOptions {
  readonly relay: ClientRelay;
  /** How long the user has to answer (`confirmation.timeoutMs`). */
  readonly timeoutMs: number;
  /** The audit redaction rules: arguments are shown to the user as the audit records them. */
  readonly redact: Redactor;
}

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/**
 * The executor a call-tool decision runs with: `execute` itself when no confirmation is involved
 * or it was accepted already; one that answers without the backend when it ended otherwise;
 * one that asks first when the policy asked for it.
 */
export function confirmed(d: CallTool, opts: SessionConfirmOptions | undefined, execute: ToolExecutor): ToolExecutor {
  if (d.confirmed === 'accepted' || (!d.confirm && !d.confirmed)) return execute;
  if (d.confirmed) return refusing(d.confirmed, 'the client did not declare form-mode elicitation');
  // A stateless client is asked in admission (src/confirm/stateless.ts); one that got here was not.
  if (!opts || eraOf(d.session.protocolVersion) === 'stateless') return refusing('unavailable', 'this gateway cannot ask the client here');
  return (call) => asking(call, d.confirm!, opts, execute);
}

function refusing(outcome: Exclude<ConfirmOutcome, 'accepted'>, detail: string): ToolExecutor {
  return async function* (call) {
    settle(call, outcome);
    yield refusal(call.request.id, outcome, outcome === 'unavailable' ? detail : undefined);
  };
}

async function* asking(call: ToolCall, confirm: Confirmation, opts: SessionConfirmOptions, execute: ToolExecutor): AsyncGenerator<JsonRpcMessage> {
  const { id } = call.request;
  if (call.answerOnly) {
    settle(call, 'unavailable');
    return yield refusal(id, 'unavailable', 'the client takes only the final answer of this call (no SSE, or a batch)');
  }
  let answer!: (r: JsonRpcResponse) => void;
  const answered = new Promise<JsonRpcResponse>((resolve) => (answer = resolve));
  const origin = {
    session: call.session,
    backend: call.backend,
    via: { instance: GATEWAY_ASKS, sessionId: null, protocolVersion: call.session.protocolVersion },
    endpoint: { url: GATEWAY_ASKS, sessionId: null, protocolVersion: call.session.protocolVersion, headers: {} },
    caller: call.caller,
    sourceIp: call.sourceIp ?? null,
    tool: call.tool,
    timeoutMs: opts.timeoutMs,
    answer,
  };
  const request = { jsonrpc: '2.0' as const, id: 'confirm', method: 'elicitation/create', params: confirmationForm(call.tool, call.arguments, confirm, opts.redact) };
  const asked = await opts.relay.ask(origin, request);
  if (!asked) {
    settle(call, 'unavailable');
    return yield refusal(id, 'unavailable', 'the client did not declare form-mode elicitation, or the question could not be recorded');
  }
  yield asked;
  const signal = call.abort.signal;
  const gone = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  const response = await Promise.race([answered, gone]);
  if (response === undefined) {
    // The client went away or cancelled the call: the question is withdrawn, nothing runs.
    opts.relay.abandon([asked.id as string], 'GW_RELAY_CANCELLED');
    return;
  }
  const { outcome, detail } = readAnswer(response);
  settle(call, outcome);
  if (outcome !== 'accepted') return yield refusal(id, outcome, detail);
  yield* execute(call);
}

/** Note how the confirmation ended, for the call's audit event. */
function settle(call: ToolCall, outcome: ConfirmOutcome): void {
  if (call.confirmation) call.confirmation.outcome = outcome;
}
