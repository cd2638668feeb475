import type { Logger } from 'pino';
import { exposeResultUris } from '../catalog/uris.js';
import type { CatalogTool } from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError, type ErrorCode, ERRORS } from '../errors.js';
import { relayedCapabilities } from '../mcp/client-capabilities.js';
import { LISTEN_METHOD, SESSION_ONLY_METHODS, STATELESS_PROTOCOL_VERSION } from '../mcp/era.js';
import { declaredParamHeaders } from '../mcp/header-values.js';
import { isNotification, isObject, isResponse, success, type JsonRpcErrorObject, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { logVisible } from '../mcp/log-level.js';
import { RELAYED_NOTIFICATIONS } from '../mcp/methods.js';
import type { SessionRecord } from '../session/store.js';
import type { ToolCall, UpstreamCall } from './call.js';
import type { ClientRelay, RelayOrigin } from './client-relay.js';
import type { Deadline } from './deadline.js';
import type { FailureShape } from './failure.js';
import type { StatelessBackends } from './stateless-backend.js';
import type { BackendStreams } from './backend-streams.js';
import { untilAborted } from '../wait.js';
import { asSessionResult, statelessEndpoint, type StatelessMeta } from './stateless-wire.js';

const SUBSCRIBE = 'resources/subscribe';
const UNSUBSCRIBE = 'resources/unsubscribe';

/** How many `input_required` rounds one call may take before the gateway gives up on the backend. */
export const MAX_INPUT_ROUNDS = 10;

export interface StatelessBridgeOptions {
  readonly stateless: StatelessBackends;
  /** Relays input requests to the client (sampling, elicitation, roots); none: each ends the call. */
  readonly relay?: ClientRelay;
  readonly clientInfo: StatelessMeta['clientInfo'];
  readonly logger: Logger;
  /** Holds the `subscriptions/listen` streams of clients' resource subscriptions; none: subscriptions are refused. */
  readonly streams?: BackendStreams;
}

/** What a stateless request says for a session-era client: what the gateway relays for it, and its log level if it set one. */
export function sessionMeta(session: SessionRecord, clientInfo: StatelessMeta['clientInfo']): StatelessMeta {
  return { clientCapabilities: relayedCapabilities(session.clientCapabilities), clientInfo, ...(session.logLevel !== undefined ? { logLevel: session.logLevel } : {}) };
}

/**
 * A session-era client's request to a stateless-era backend. The backend gets stateless requests
 * (no backend session); when it answers `input_required`, each of its input requests reaches the
 * client as a real `sampling/createMessage`, `elicitation/create` or `roots/list` on the call's
 * stream (the relay's capability checks, policy, timeouts and audit apply), and the call is sent
 * again with the answers and the backend's `requestState` until it completes: the client sees one
 * ordinary call.
 */
export class StatelessBridge {
  constructor(private readonly opts: StatelessBridgeOptions) {}

  async *exchange(call: UpstreamCall, method: string, params: Record<string, unknown>, retrySafe: boolean, fail: FailureShape, deadline: Deadline, headers: Record<string, string>): AsyncGenerator<JsonRpcMessage> {
    const backend = call.backend as McpBackendConfig;
    const meta = sessionMeta(call.session, this.opts.clientInfo);
    const { streams } = this.opts;
    if ((method === SUBSCRIBE || method === UNSUBSCRIBE) && streams && typeof params.uri === 'string') {
      // The stateless era subscribes with subscriptions/listen: one stream per client session and backend carries every URI.
      const listen = (uris: string[], signal: AbortSignal): AsyncGenerator<JsonRpcMessage> =>
        this.opts.stateless.send({ backend, method: LISTEN_METHOD, params: { notifications: { resourceSubscriptions: uris } }, meta, headers, signal, retrySafe: true }, 0);
      streams.listen(call.session.id, backend.name, call.uriPrefix ?? '', method === SUBSCRIBE ? { add: params.uri } : { remove: params.uri }, listen);
      return yield success(call.request.id, {});
    }
    if (SESSION_ONLY_METHODS.has(method)) {
      return yield fail('GW_UPSTREAM_ERA_UNSUPPORTED', `backend "${backend.name}" speaks ${STATELESS_PROTOCOL_VERSION}, which has no ${method}`);
    }
    const prefix = call.uriPrefix ?? '';
    const tool = 'tool' in call ? (call as ToolCall).tool : undefined;
    const paramHeaders = tool ? declaredParamHeaders(tool.definition.inputSchema) : [];
    let instance = backend.urls[0]!;
    let retry: Record<string, unknown> = {};
    for (let round = 1; ; round++) {
      let final: JsonRpcResponse | undefined;
      const send = {
        backend,
        method,
        params: { ...params, ...retry },
        meta,
        headers,
        signal: deadline.signal,
        retrySafe,
        paramHeaders,
        onInstance: (url: string): void => {
          instance = url;
          call.onInstance?.(url);
        },
      };
      for await (const m of this.opts.stateless.send(send, call.request.id)) {
        if (isResponse(m)) final = m;
        else if (isNotification(m)) {
          const out = this.notificationToClient(call.session, m, prefix);
          if (out) yield out;
        }
      }
      if (!final) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" gave no answer`);
      if (!('result' in final)) return yield final;
      const result = final.result;
      if (result.resultType !== 'input_required') return yield { ...final, result: exposeResultUris(prefix, asSessionResult(result)) };
      if (round >= MAX_INPUT_ROUNDS) return yield fail('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" still asked for input after ${MAX_INPUT_ROUNDS} rounds`);
      const answers = yield* this.ask(call, instance, headers, result, deadline, tool);
      if ('failure' in answers) return yield fail(answers.failure.code, answers.failure.detail);
      retry = { inputResponses: answers.responses, ...(typeof result.requestState === 'string' ? { requestState: result.requestState } : {}) };
    }
  }

  /**
   * Relay each input request of an `input_required` result to the client and collect the
   * answers, keyed as the backend keyed its requests. The first refusal, error or timeout ends
   * the call (the backend has no way to hear of it): the rest are abandoned.
   */
  private async *ask(call: UpstreamCall, instance: string, headers: Record<string, string>, result: Record<string, unknown>, deadline: Deadline, tool: CatalogTool | undefined): AsyncGenerator<JsonRpcMessage, { responses: Record<string, unknown> } | { failure: Failure }> {
    const backend = call.backend as McpBackendConfig;
    const requests = isObject(result.inputRequests) ? Object.entries(result.inputRequests) : [];
    const { relay } = this.opts;
    if (requests.length > 0 && !relay) return { failure: { code: 'GW_RELAY_NOT_DECLARED', detail: 'the gateway relays no backend requests' } };
    const answers = new Map<string, Promise<JsonRpcResponse>>();
    const relayed: string[] = [];
    try {
      for (const [key, spec] of requests) {
        if (!isObject(spec) || typeof spec.method !== 'string') return { failure: { code: 'GW_UPSTREAM_PROTOCOL', detail: `backend "${backend.name}" sent a malformed input request "${key}"` } };
        const request: JsonRpcRequest = { jsonrpc: '2.0', id: key, method: spec.method, ...(isObject(spec.params) ? { params: spec.params } : {}) };
        let answer!: (r: JsonRpcResponse) => void;
        answers.set(key, new Promise((resolve) => (answer = resolve)));
        const origin: RelayOrigin = {
          session: call.session,
          backend,
          via: { instance, sessionId: null, protocolVersion: STATELESS_PROTOCOL_VERSION },
          endpoint: statelessEndpoint(instance, headers, request),
          caller: call.caller,
          sourceIp: call.sourceIp ?? null,
          timeoutMs: deadline.remainingMs(),
          answer,
          ...(call.answerOnly ? { answerOnly: true } : {}),
          ...(tool ? { tool } : {}),
        };
        const out = await relay!.toClient(origin, request);
        if (out) {
          relayed.push(out.id as string);
          yield out;
        }
      }
      const responses: Record<string, unknown> = {};
      for (const [key, pending] of answers) {
        const r = await untilAborted(pending, deadline.signal);
        if ('error' in r) return { failure: failureOf(r.error) };
        responses[key] = r.result;
      }
      relayed.length = 0;
      return { responses };
    } finally {
      // Answers no longer wanted (an earlier one failed, or the call ended): the client is told they are off.
      if (relayed.length > 0) relay?.abandon(relayed, deadline.timedOut ? 'GW_RELAY_TIMEOUT' : 'GW_RELAY_CANCELLED');
    }
  }

  /** A notification of the backend's, as the client sees it: log messages below the client's level dropped, URIs exposed. */
  private notificationToClient(session: SessionRecord, m: JsonRpcNotification, prefix: string): JsonRpcNotification | undefined {
    if (m.method === RELAYED_NOTIFICATIONS.message && !logVisible(session.logLevel, m.params?.level)) return undefined;
    return m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m;
  }
}

/** Why a relayed input request failed, as the call's failure: the gateway's own code, or the client's error. */
function failureOf(error: JsonRpcErrorObject): Failure {
  const data = error.data;
  if (!isObject(data) || typeof data.code !== 'string' || !(data.code in ERRORS)) return { code: 'GW_RELAY_CLIENT_ERROR', detail: `${error.code}: ${error.message}` };
  const code = data.code as ErrorCode;
  // The relay's refusals are registry errors already: their detail, without the registry message again.
  const lead = `${ERRORS[code].message}: `;
  return { code, detail: error.message.startsWith(lead) ? error.message.slice(lead.length) : undefined };
}

/** Why a call ends instead of being sent again. */
interface Failure {
  readonly code: ErrorCode;
  readonly detail: string | undefined;
}
