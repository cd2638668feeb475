import type { Caller } from '../auth/caller.js';
import { isRetrySafe, type CatalogTool } from '../catalog/model.js';
import { exposeResultUris } from '../catalog/uris.js';
import type { McpBackendConfig } from '../config/schema.js';
import { declaredParamHeaders } from '../mcp/header-values.js';
import { isNotification, isResponse, type JsonRpcMessage, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { failureAnswer, failureShapeOf } from './failure.js';
import type { StatelessBackends } from './stateless-backend.js';
import type { StatelessMeta } from './stateless-wire.js';

/** A stateless-era client's request for a stateless-era backend, already admitted and routed. */
export interface PassThroughCall {
  readonly backend: McpBackendConfig;
  /** The client's request: its id goes on the response, its method is sent on. */
  readonly request: JsonRpcRequest;
  /**
   * The params in the backend's terms: its tool name, URI or prompt name, and on a retry the
   * client's `inputResponses` and the backend's own `requestState` (unwrapped from the gateway's).
   * The client's `_meta` keys other than the stateless era's own (e.g. `progressToken`) may stay.
   */
  readonly params: Readonly<Record<string, unknown>>;
  /** What the client declared in its own `_meta` (the gateway narrows capabilities to what it relays). */
  readonly meta: StatelessMeta;
  readonly caller: Caller;
  /** Aborted when the client closes its stream: the upstream request is closed too. */
  readonly abort: AbortController;
  /** The called tool, for its `x-mcp-header` parameters and whether a retry elsewhere is safe. */
  readonly tool?: CatalogTool;
  /** The prefix under which the answer's resource URIs are exposed (src/catalog/uris.ts). */
  readonly uriPrefix?: string;
  readonly outboundHeaders?: Readonly<Record<string, string>>;
  readonly onInstance?: (url: string) => void;
}

export interface StatelessPassOptions {
  readonly stateless: StatelessBackends;
  readonly credentials: OutboundCredentials;
  readonly defaultTimeoutMs: number;
}

/**
 * A stateless-era client's request passed to a stateless-era backend as it is: yields the
 * backend's notifications, then exactly one response under the client's id: the backend's
 * result untouched (an `input_required` result with its `inputRequests` and `requestState`
 * included, for the caller to seal the state into its own), the backend's JSON-RPC error, or a
 * gateway failure in the request's shape (a tool error for `tools/call`, -32603 otherwise).
 * The only change is the resource URIs, exposed under the backend's prefix.
 */
export async function* passThrough(opts: StatelessPassOptions, call: PassThroughCall): AsyncGenerator<JsonRpcMessage> {
  const { backend, request } = call;
  const id = request.id;
  const fail = failureShapeOf(request.method, id);
  const deadline = new Deadline(call.abort, backend.timeoutMs ?? opts.defaultTimeoutMs);
  const prefix = call.uriPrefix ?? '';
  try {
    const headers = await opts.credentials.headers(backend, call.caller, call.outboundHeaders);
    const send = {
      backend,
      method: request.method,
      params: call.params,
      meta: call.meta,
      headers,
      signal: deadline.signal,
      // Reads, prompts and completions never have side effects; a tool only when it says so.
      retrySafe: call.tool ? isRetrySafe(call.tool) : true,
      paramHeaders: call.tool ? declaredParamHeaders(call.tool.definition.inputSchema) : [],
      ...(call.onInstance ? { onInstance: call.onInstance } : {}),
    };
    for await (const m of opts.stateless.send(send, id)) {
      if (isResponse(m)) yield 'result' in m ? { ...m, result: exposeResultUris(prefix, m.result) } : m;
      else if (isNotification(m)) yield m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m;
    }
  } catch (err) {
    const answer = failureAnswer(err, deadline, id, backend.name, fail);
    if (answer) yield answer;
  } finally {
    deadline.dispose();
  }
}
