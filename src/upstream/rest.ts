import type { Dispatcher } from 'undici';
import type { RestBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { success, type JsonRpcMessage, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import { decodeSse } from '../mcp/sse.js';
import { isRetrySafe } from '../catalog/model.js';
import { isJsonMedia, mediaType } from '../mcp/media-type.js';
import { bounded, lines, parseJsonOr, readText } from './body.js';
import { progressToken, type ToolCall } from './call.js';
import { Deadline } from './deadline.js';
import { failureAnswer } from './failure.js';
import { InstanceFailure, withFailover } from './failover.js';
import type { Pools } from './pool.js';
import { buildRestRequest, joinUrl } from './rest-request.js';
import type { OutboundCredentials } from './credentials.js';
import { jsonResult, textResult, toolError } from './results.js';

export interface RestExecutorOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly defaultTimeoutMs: number;
  readonly credentials: OutboundCredentials;
  /** Whether the session wants `info`-level log notifications (streamed chunks use them without a progress token). */
  readonly wantsLog: (call: ToolCall) => boolean;
}

const STREAM_TYPES = new Set(['text/event-stream', 'application/x-ndjson', 'application/jsonl', 'application/json-seq']);
const RETRYABLE_STATUS = new Set([502, 503, 504]);

/** REST translation: a tool call becomes an HTTP request; the answer becomes a tool result. */
export function restExecutor(opts: RestExecutorOptions) {
  return async function* executeRest(call: ToolCall): AsyncGenerator<JsonRpcMessage> {
    const backend = call.backend as RestBackendConfig;
    if (call.tool.route.kind !== 'rest') throw new Error('restExecutor needs a REST tool');
    const id = call.request.id;
    let req;
    try {
      req = buildRestRequest(call.tool.route.http, call.arguments);
    } catch (err) {
      if (err instanceof GatewayError) return yield success(id, toolError(err.code, err.detail));
      throw err;
    }
    const timeoutMs = call.tool.route.timeoutMs ?? backend.timeoutMs ?? opts.defaultTimeoutMs;
    const deadline = new Deadline(call.abort, timeoutMs);
    const retrySafe = isRetrySafe(call.tool);
    const pool = opts.pools.get(backend.name, backend.urls);
    try {
      const headers = await opts.credentials.headers(backend, call.caller, { accept: 'application/json', ...req.headers, ...call.outboundHeaders });
      const res = await withFailover(
        pool,
        retrySafe,
        async (base) => {
          call.onInstance?.(base);
          const url = joinUrl(base, req.path);
          const r = await opts.dispatcher.request({
            origin: url.origin,
            path: url.pathname + url.search,
            method: req.method as Dispatcher.HttpMethod,
            headers,
            body: req.body ?? null,
            signal: deadline.signal,
          });
          if (RETRYABLE_STATUS.has(r.statusCode) && retrySafe) {
            await r.body.dump();
            throw new InstanceFailure(`HTTP ${r.statusCode}`, true);
          }
          return r;
        },
        () => deadline.signal.aborted,
      );
      const mt = mediaType(res.headers['content-type']);
      if (res.statusCode === 401 && backend.credentials.type !== 'none') opts.credentials.invalidate(backend, call.caller);
      if (res.statusCode < 200 || res.statusCode >= 300) {
        const text = await readText(res.body);
        const snippet = text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
        return yield success(id, toolError('GW_UPSTREAM_HTTP_ERROR', `HTTP ${res.statusCode} from backend "${backend.name}"${snippet ? `: ${snippet}` : ''}`));
      }
      if (STREAM_TYPES.has(mt)) return yield* streamChunks(call, res.body, mt, opts.wantsLog(call));
      const text = await readText(res.body);
      if (text === '') return yield success(id, textResult(`HTTP ${res.statusCode} (empty body)`));
      const value = isJsonMedia(mt) ? parseJsonOr(text, undefined) : undefined;
      return yield success(id, value === undefined ? textResult(text) : jsonResult(value));
    } catch (err) {
      const answer = failureAnswer(err, deadline, id, backend.name);
      if (answer) yield answer;
    } finally {
      deadline.dispose();
    }
  };
}

/** Relay each chunk of a streaming REST answer as a notification, then a result holding all chunks. */
async function* streamChunks(call: ToolCall, body: AsyncIterable<Uint8Array>, mt: string, wantsLog: boolean): AsyncGenerator<JsonRpcMessage> {
  const token = progressToken(call.request);
  const chunks: string[] = [];
  const limited = bounded(body);
  const source = mt === 'text/event-stream' ? mapAsync(decodeSse(limited), (e) => e.data) : lines(limited);
  for await (const chunk of source) {
    chunks.push(chunk);
    const note = chunkNotification(call, chunk, chunks.length, token, wantsLog);
    if (note) yield note;
  }
  yield success(call.request.id, textResult(chunks.join('\n')));
}

function chunkNotification(call: ToolCall, chunk: string, n: number, token: string | number | undefined, wantsLog: boolean): JsonRpcNotification | undefined {
  if (token !== undefined) return { jsonrpc: '2.0', method: 'notifications/progress', params: { progressToken: token, progress: n, message: chunk } };
  if (!wantsLog) return undefined;
  return { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', logger: call.tool.name, data: parseJsonOr(chunk, chunk) } };
}

async function* mapAsync<A, B>(src: AsyncIterable<A>, fn: (a: A) => B): AsyncGenerator<B> {
  for await (const a of src) yield fn(a);
}
