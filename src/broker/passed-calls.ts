/**
 * Stateless clients' requests to stateless-era backends, passed through (McpBackends.passThrough):
 * both ends speak multi-round-trip requests (MRTR), so the backend's `input_required` reaches the
 * client as the backend wrote it, every input request under the backend's own key, and the
 * client's `inputResponses` go back to the backend as given. Only two things change on the way:
 * each input request is checked as a relayed request would be (declared capability, policy
 * `kind: relay`, audit), and the backend's `requestState` travels sealed inside the gateway's own,
 * bound to the caller, the request and the backend (src/session/request-state.ts), so a client
 * can neither read nor alter it, nor replay it as another caller.
 */
import { wireError } from '../errors.js';
import { requiredCapabilities } from '../mcp/client-capabilities.js';
import { PARAM_INPUT_RESPONSES, PARAM_REQUEST_STATE, RESULT_INPUT_REQUIRED } from '../mcp/era.js';
import { isObject, isResponse, success, type JsonRpcMessage, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { statelessResponse, statelessResult, type ServerInfo } from '../mcp/stateless-results.js';
import { MAX_REQUEST_STATE_CHARS, sealRound, type PassedRound } from '../session/request-state.js';
import type { ClientRelay, Refusal, RelayAsker } from '../upstream/client-relay.js';
import { failureShapeOf } from '../upstream/failure.js';
import type { StatelessRound } from './held-calls.js';

export interface PassedCallsOptions {
  /** Screens and audits each input request; none: a backend that asks anything fails the call. */
  readonly relay: ClientRelay | undefined;
  readonly sealKey: Buffer;
  readonly serverInfo: ServerInfo;
  readonly stateTtlMs: number;
}

/** What a request carries to the backend when it continues an `input_required` round. */
export function retryParams(answers: unknown, round: PassedRound | undefined): Record<string, unknown> {
  return {
    ...(isObject(answers) ? { [PARAM_INPUT_RESPONSES]: answers } : {}),
    ...(round?.state !== undefined ? { [PARAM_REQUEST_STATE]: round.state } : {}),
  };
}

export class PassedCalls {
  constructor(private readonly opts: PassedCallsOptions) {}

  /**
   * The backend's answer as the client gets it: notifications as they come, a complete result or
   * an error in the stateless shape (the backend's own codes and, for -32021, its HTTP status
   * kept), an `input_required` with its requests checked and its state sealed.
   */
  async *shape(round: StatelessRound, asker: RelayAsker, messages: AsyncGenerator<JsonRpcMessage>): AsyncGenerator<JsonRpcMessage> {
    for await (const m of messages) {
      if (!isResponse(m)) {
        yield m;
        continue;
      }
      if ('result' in m && m.result.resultType === RESULT_INPUT_REQUIRED) yield await this.inputRequired(round, asker, m.result);
      else yield statelessResponse(m, this.opts.serverInfo, 'result' in m ? round.cache : undefined);
      return;
    }
  }

  private async inputRequired(round: StatelessRound, asker: RelayAsker, result: Record<string, unknown>): Promise<JsonRpcResponse> {
    const { id, method } = round.request;
    const fail = failureShapeOf(method, id);
    const shaped = (r: JsonRpcResponse): JsonRpcResponse => statelessResponse(r, this.opts.serverInfo);
    const entries = isObject(result.inputRequests) ? Object.entries(result.inputRequests) : [];
    const requests: Array<[string, JsonRpcRequest]> = [];
    for (const [key, spec] of entries) {
      if (!isObject(spec) || typeof spec.method !== 'string') return shaped(fail('GW_UPSTREAM_PROTOCOL', `backend "${asker.backend.name}" sent a malformed input request "${key}"`));
      requests.push([key, { jsonrpc: '2.0', id: key, method: spec.method, ...(isObject(spec.params) ? { params: spec.params } : {}) }]);
    }
    for (const [, request] of requests) {
      const refusal: Refusal | undefined = this.opts.relay ? await this.opts.relay.screen(asker, request) : { code: 'GW_RELAY_NOT_DECLARED', reason: 'the gateway relays no backend requests' };
      if (!refusal) continue;
      // What the client did not declare is its request's fault (-32021, HTTP 400), as the backend itself would answer.
      if (refusal.code === 'GW_RELAY_NOT_DECLARED') return shaped(wireError('GW_CAPABILITY_REQUIRED', id, refusal.reason, { requiredCapabilities: requiredCapabilities(request) }));
      return shaped(fail(refusal.code, refusal.reason));
    }
    for (const [key, request] of requests) this.opts.relay?.passed(asker, key, request);
    const state = typeof result.requestState === 'string' ? result.requestState : undefined;
    const sealed = sealRound(this.opts.sealKey, {
      kind: 'passed',
      principal: round.caller.principal,
      method,
      name: round.name,
      backend: asker.backend.name,
      ...(state !== undefined ? { state } : {}),
      expiresAt: Date.now() + this.opts.stateTtlMs,
    });
    if (sealed.length > MAX_REQUEST_STATE_CHARS) return shaped(fail('GW_UPSTREAM_PROTOCOL', `backend "${asker.backend.name}" sent a requestState too large to carry (${state?.length ?? 0} characters)`));
    return success(id, statelessResult({ ...result, requestState: sealed }, this.opts.serverInfo));
  }
}
