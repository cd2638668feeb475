/**
 * Confirmation for stateless (2026-07-28) clients, which cannot be asked in the middle of a call:
 * the first request is answered `input_required` with the confirmation form in `inputRequests`
 * and a sealed `requestState` bound to the caller, the tool, a digest of the arguments and an
 * expiry; the retry that carries it and the user's answer goes on only with the SAME arguments,
 * once (the state's key is taken from the caller's held record atomically), and on `accept`.
 */
import { randomBytes } from 'node:crypto';
import type { Caller } from '../auth/caller.js';
import { reject, type Decision } from '../admission/decision.js';
import type { Trail } from '../admission/observer.js';
import { wireError } from '../errors.js';
import { PARAM_INPUT_RESPONSES, PARAM_REQUEST_STATE, RESULT_INPUT_REQUIRED } from '../mcp/era.js';
import { isObject, success, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { definitionDigest } from '../pinning/digest.js';
import { seal, unseal } from '../session/sealed.js';
import { samePrincipal, type Principal, type SessionStore } from '../session/store.js';
import type { Redactor } from '../telemetry/redact.js';
import { GATEWAY_ASKS } from '../upstream/client-relay.js';
import { confirmationForm } from './form.js';
import { readAnswer } from './outcome.js';

/** Sealed apart from held calls' states: one is never opened as the other. */
const AAD = Buffer.from('mcp-gateway confirmation v1');
const KEY_PREFIX = 'gw-confirm-';

/** What a confirmation state binds the retry to. */
export interface ConfirmationRound {
  readonly principal: Principal;
  readonly method: string;
  readonly name: string;
  /** `sha256:` of the arguments' canonical JSON: other arguments are not what the user confirmed. */
  readonly arguments: string;
  /** The held record whose pending entry makes the state good once, and that entry's key (the `inputRequests` key). */
  readonly session: string;
  readonly key: string;
  readonly expiresAt: number;
}

export interface StatelessConfirmOptions {
  readonly seal: Buffer;
  readonly sessions: SessionStore;
  /** How long the user has to answer (`confirmation.timeoutMs`). */
  readonly timeoutMs: number;
  readonly redact: Redactor;
}

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/** The binding a retry must match, or why it does not (the detail a GW_REQUEST_STATE_INVALID carries). */
export function checkBinding(round: ConfirmationRound, caller: Principal, method: string, name: string, args: Record<string, unknown>): string | undefined {
  // One answer for another caller's state and a forged one: nothing is learnt by probing.
  if (!samePrincipal(round.principal, caller)) return 'not a requestState this gateway issued (or it was altered)';
  if (round.method !== method || round.name !== name) return `the requestState belongs to another request (${round.method} "${round.name}")`;
  if (round.arguments !== definitionDigest(args)) return 'the user confirmed this call with other arguments; send it again without requestState to be asked about these';
  return undefined;
}

export class StatelessConfirmations {
  constructor(private readonly opts: StatelessConfirmOptions) {}

  /**
   * A stateless call the policy asks to confirm: the first round's `input_required`, or the
   * retry's decision (the call with how the confirmation ended, or a refusal of its state).
   * Undefined when the request carries a `requestState` of something else (a held call's: the
   * call was confirmed before it started, and its retry continues it).
   */
  async settle(d: CallTool, original: JsonRpcRequest, caller: Caller, trail: Trail): Promise<Decision | undefined> {
    if (d.confirmed) return undefined;
    const state = original.params?.[PARAM_REQUEST_STATE];
    if (state === undefined) return this.ask(d, original, caller);
    const opened = unseal<ConfirmationRound>(this.opts.seal, AAD, state);
    if (!opened.ok) return undefined;
    const round = opened.value;
    const problem = checkBinding(round, caller.principal, original.method, d.tool.name, d.arguments);
    if (problem) return this.invalid(d, trail, problem);
    const { confirm: _asked, ...call } = d;
    if (round.expiresAt <= Date.now()) return { ...call, confirmed: 'timeout' };
    const answers = original.params?.[PARAM_INPUT_RESPONSES];
    const answer = isObject(answers) ? answers[round.key] : undefined;
    // No answer: nothing was decided, so the user is asked again (the old state stays good until it expires).
    if (answer === undefined) return this.ask(d, original, caller);
    const taken = await this.opts.sessions.takeRelay(round.session, round.key).catch(() => undefined);
    if (!taken) return this.invalid(d, trail, 'the requestState was used already; send the request again without it');
    return { ...call, confirmed: readAnswer(answer).outcome };
  }

  /** `input_required` with the confirmation form, its key noted in the held record so the state is good once. */
  private async ask(d: CallTool, original: JsonRpcRequest, caller: Caller): Promise<Decision> {
    const key = `${KEY_PREFIX}${randomBytes(12).toString('base64url')}`;
    const now = Date.now();
    const expiresAt = now + this.opts.timeoutMs;
    const via = { instance: GATEWAY_ASKS, sessionId: null, protocolVersion: d.session.protocolVersion };
    try {
      await this.opts.sessions.addRelay(d.session.id, key, { backend: d.tool.backend, backendId: key, method: 'elicitation/create', via, tool: d.tool.name, askedAt: now, expiresAt });
    } catch {
      return reject('GW_SESSION_STORE_UNAVAILABLE', original.id, 'the confirmation cannot be recorded');
    }
    const round: ConfirmationRound = { principal: caller.principal, method: original.method, name: d.tool.name, arguments: definitionDigest(d.arguments), session: d.session.id, key, expiresAt };
    const params = confirmationForm(d.tool, d.arguments, d.confirm!, this.opts.redact);
    const result = { resultType: RESULT_INPUT_REQUIRED, inputRequests: { [key]: { method: 'elicitation/create', params } }, requestState: seal(this.opts.seal, AAD, round) };
    return { kind: 'respond', session: d.session, body: success(original.id, result) };
  }

  private invalid(d: CallTool, trail: Trail, detail: string): Decision {
    trail.denied = { code: 'GW_REQUEST_STATE_INVALID', reason: detail };
    return { kind: 'respond', session: d.session, body: wireError('GW_REQUEST_STATE_INVALID', d.message.id, detail) };
  }
}
