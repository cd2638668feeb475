/**
 * The failing answers of routed calls shown apart from the calls' own exchanges (envoy.yaml's
 * pipelined mode: `mcp.failed_answers` sends ext_proc a failing answer's headers on a stream of its
 * own, naming the call). Envoy may send that stream to another gateway replica than the one that
 * routed the call: that replica still answers the client, from what the answer carries (the
 * request's id, the backend, its budget, whether the session was pinned), and hands the status to
 * the call's replica through the session store, which learns from it there (a lost backend session
 * forgotten, a failed instance, a timeout) and records it.
 */
import type { JsonRpcId, JsonRpcResponse } from '../mcp/jsonrpc.js';
import { success } from '../mcp/jsonrpc.js';
import type { SessionStore } from '../session/store.js';
import { statelessResponse, type ServerInfo } from '../mcp/stateless-results.js';
import { toolError } from './results.js';

/**
 * Envoy's circuit breaker refused the call (the backend's `maxConcurrentCalls` calls are open
 * through this Envoy): its 503 carries `x-envoy-overloaded`. The call never reached an instance, so
 * nothing is learnt from it (no instance failed, no backend session was lost).
 */
export const OVERFLOW = 'overflow';

/** A routed call's failing answer as the gateway reads it: its HTTP status, {@link OVERFLOW}, or none (no answer). */
export type AnswerStatus = number | typeof OVERFLOW | undefined;

/** What the gateway's answer to a routed call's failure says. */
export interface FailureFacts {
  readonly requestId: JsonRpcId;
  readonly backend: string;
  /** The backend's call budget (`timeoutMs`). */
  readonly budgetMs: number;
  /** The backend session lives on one instance only: a 404 there means it was lost. */
  readonly pinned: boolean;
  /** A 2026-07-28 client's call: the answer takes that era's result shape. */
  readonly stateless: boolean;
}

/**
 * Whether the gateway answers in place of a routed call's failing answer. Not a 2026-07-28
 * backend's 4xx: it carries the backend's own JSON-RPC error for the client (a header that does not
 * match the body, -32020; a capability the client did not declare, -32021), which passes on as is.
 */
export function replacesAnswer(f: Pick<FailureFacts, 'stateless'>, status: AnswerStatus): boolean {
  return !(f.stateless && typeof status === 'number' && status >= 400 && status < 500);
}

/**
 * The answer the client gets in place of a routed call's failing one (the broker's words for the
 * same failures), in the 2026-07-28 result shape for a stateless client (`server`: the gateway's
 * serverInfo, which that shape carries).
 */
export function routedFailureAnswer(f: FailureFacts, status: AnswerStatus, server?: ServerInfo): JsonRpcResponse {
  const answer = success(f.requestId, failureResult(f, status));
  return f.stateless && server ? statelessResponse(answer, server) : answer;
}

function failureResult(f: FailureFacts, status: AnswerStatus): Record<string, unknown> {
  if (status === OVERFLOW) return toolError('GW_UPSTREAM_BUSY', `backend "${f.backend}" has as many calls open through this Envoy as it takes (its maxConcurrentCalls); retry shortly`);
  if (status === 504) return toolError('GW_UPSTREAM_TIMEOUT', `no answer from backend "${f.backend}" within ${f.budgetMs} ms`);
  if (status === 404 && f.pinned) return toolError('GW_UPSTREAM_SESSION_LOST', `backend "${f.backend}" no longer knows the session; call the tool again`);
  if (status === undefined) return toolError('GW_UPSTREAM_UNAVAILABLE', `backend "${f.backend}" did not answer`);
  return toolError(status >= 500 ? 'GW_UPSTREAM_UNAVAILABLE' : 'GW_UPSTREAM_HTTP_ERROR', `HTTP ${status} from backend "${f.backend}"`);
}

/** A routed call as this bookkeeping needs it (src/upstream/direct.ts's DirectCall). */
export interface WatchedCall {
  readonly id: string;
  /** Settle from the failing status: the answer the client gets instead (undefined once settled). */
  settle(status: AnswerStatus): Promise<JsonRpcResponse | undefined>;
  /** Learn from a failing status that came after the call was recorded. */
  learnLate(status: AnswerStatus): Promise<void>;
  /** A rate limiter refused it after ext_proc: it never reached the backend. */
  abandon(): void;
}

/** Handoffs of routed calls' statuses are kept under this id, which is no session's ('~' is not in a session id's alphabet; the store splits its keys at the first NUL). */
const HANDOFF_ID = '~routed-calls';
const HANDOFF_KEY = 'failed:';
/** Long enough for the call's replica to hear of it, even after the store lost and regained its cluster. */
const HANDOFF_TTL_MS = 30_000;
/** Calls kept after they ended, for a status that comes later (most recent last). */
const ENDED_KEPT = 1024;

export class FailedAnswers {
  private readonly watched = new Map<string, WatchedCall>();
  private readonly ended = new Map<string, WatchedCall>();

  constructor(
    private readonly sessions?: SessionStore,
    /** The gateway's serverInfo, for a stateless client's answer. */
    private readonly server?: ServerInfo,
  ) {
    sessions?.onHandoff((id, key, message) => {
      if (id === HANDOFF_ID && key.startsWith(HANDOFF_KEY)) void this.handedOver(key.slice(HANDOFF_KEY.length), typeof message.status === 'number' || message.status === OVERFLOW ? message.status : undefined);
    });
  }

  watch(call: WatchedCall): void {
    this.watched.set(call.id, call);
  }

  /** The call's exchange is over: kept a while for a failure another replica hands over late. */
  forget(call: WatchedCall): void {
    if (!this.watched.delete(call.id)) return;
    this.ended.set(call.id, call);
    if (this.ended.size > ENDED_KEPT) this.ended.delete(this.ended.keys().next().value!);
  }

  /**
   * A failing answer naming call `id`: the answer the client gets instead, or undefined to let it
   * through (a rate limiter's refusal, or nothing to answer with). The call's own replica settles
   * it; any other answers from `facts` and hands the status over.
   */
  async answer(id: string, status: AnswerStatus, rateLimited: boolean, facts: FailureFacts | undefined): Promise<JsonRpcResponse | undefined> {
    const call = this.watched.get(id);
    if (call) {
      if (rateLimited) return void call.abandon();
      return call.settle(status);
    }
    if (rateLimited || !facts) return undefined;
    await this.sessions?.handOff(HANDOFF_ID, `${HANDOFF_KEY}${id}`, { status: status ?? null }, HANDOFF_TTL_MS).catch(() => undefined);
    return replacesAnswer(facts, status) ? routedFailureAnswer(facts, status, this.server) : undefined;
  }

  private async handedOver(id: string, status: AnswerStatus): Promise<void> {
    const call = this.watched.get(id);
    if (call) await call.settle(status);
    else await this.ended.get(id)?.learnLate(status);
  }
}
