import type { Dispatcher } from 'undici';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import type { ParamHeader } from '../mcp/header-values.js';
import { isNotification, isResponse, type JsonRpcId, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import { isJsonMedia } from '../mcp/media-type.js';
import { InstanceFailure, withFailover } from './failover.js';
import { finishReply, postMessage, replyMessages, type McpReply } from './mcp-wire.js';
import type { Pools } from './pool.js';
import { statelessEndpoint, statelessRequest, type StatelessMeta } from './stateless-wire.js';

/** One request for a stateless-era backend, in the backend's terms. */
export interface StatelessSend {
  readonly backend: McpBackendConfig;
  readonly method: string;
  /** The backend's tool name, URI or prompt name; a retry adds `inputResponses` and `requestState`. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly meta: StatelessMeta;
  /** Outbound headers: the gateway's credentials, identity headers, trace context. */
  readonly headers: Readonly<Record<string, string>>;
  /** Aborting it before the answer closes the upstream request, which is the stateless era's cancellation. */
  readonly signal: AbortSignal;
  /** Whether the request may go to another instance after reaching a failed one (read-only or idempotent tools). */
  readonly retrySafe: boolean;
  /** The called tool's `x-mcp-header` declarations, mirrored into `Mcp-Param-*` headers. */
  readonly paramHeaders?: readonly ParamHeader[];
  /** Told each instance the request is sent to, in order. */
  readonly onInstance?: (url: string) => void;
  /** Send to this instance only, without failover (discovery asks the instance it probed). */
  readonly url?: string;
}

/**
 * Requests to stateless-era backends. Any instance serves any request (there is no session to
 * pin it), so an instance that fails is left for the next one whenever a retry cannot repeat a
 * side effect. This is also the pass-through for clients of the stateless era: {@link send}
 * hands back the backend's result untouched, `input_required` and its `requestState` included.
 */
export class StatelessBackends {
  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly pools: Pools,
  ) {}

  /**
   * Send one request; yields the notifications the backend streams for it, then its response,
   * raw, under `id`. Stopping early or aborting the signal before the response closes the upstream
   * request (the backend's cue to stop). Failures throw a {@link GatewayError}
   * (`GW_UPSTREAM_UNAVAILABLE`, `GW_UPSTREAM_HTTP_ERROR`, `GW_UPSTREAM_PROTOCOL`); a JSON-RPC error
   * of the backend's own (e.g. -32602 for an unknown tool) is its response.
   */
  async *send(req: StatelessSend, id: JsonRpcId): AsyncGenerator<JsonRpcMessage> {
    const { backend } = req;
    const request = statelessRequest(req.method, req.params, req.meta);
    const attempt = async (url: string): Promise<McpReply> => {
      req.onInstance?.(url);
      const r = await postMessage(this.dispatcher, statelessEndpoint(url, req.headers, request, req.paramHeaders), request, req.signal);
      if (r.status >= 500) {
        await r.body.dump();
        throw new InstanceFailure(`HTTP ${r.status}`, true);
      }
      return r;
    };
    const reply = req.url ? await attempt(req.url) : await withFailover(this.pools.get(backend.name, backend.urls), req.retrySafe, attempt, () => req.signal.aborted);
    let answered = false;
    try {
      // A stateless server answers its own refusals (-32020, -32022, -32601) with HTTP 4xx and a JSON-RPC error.
      if (reply.status !== 200 && !isJsonMedia(reply.contentType)) throw await httpError(reply, backend.name);
      for await (const m of replyMessages(reply)) {
        if (isResponse(m)) {
          if (m.id !== request.id) continue;
          answered = true;
          yield { ...m, id };
          return;
        }
        // Requests have no place on a stateless response stream (MRTR replaced them): dropped.
        if (isNotification(m)) yield m;
      }
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" ${reply.status === 200 ? 'closed the stream without answering' : `answered HTTP ${reply.status} without a JSON-RPC response`}`);
    } finally {
      if (answered) finishReply(reply);
      else reply.body.destroy();
    }
  }

  /** The result of one request (discovery's lists); the backend's error as a `GW_UPSTREAM_PROTOCOL` error. */
  async result(req: StatelessSend): Promise<Record<string, unknown>> {
    for await (const m of this.send(req, 0)) {
      if (!isResponse(m)) continue;
      if ('error' in m) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${req.method}: backend error ${m.error.code}: ${m.error.message}`);
      return m.result;
    }
    throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${req.method}: no answer`);
  }
}

async function httpError(reply: McpReply, backend: string): Promise<GatewayError> {
  const body = (await reply.body.text().catch(() => '')).slice(0, 1000);
  return new GatewayError('GW_UPSTREAM_HTTP_ERROR', `HTTP ${reply.status} from backend "${backend}"${body ? `: ${body}` : ''}`);
}
