/**
 * The resources and prompts a REST backend declares in its configuration. A read becomes a GET of
 * the resource's path (the answer's body is the content); a prompt is rendered by the gateway
 * from its template, without calling the backend. REST backends offer no subscriptions and no
 * completions.
 */
import type { Dispatcher } from 'undici';
import { exposedUri } from '../catalog/uris.js';
import type { RestBackendConfig } from '../config/schema.js';
import { upstreamFailure, wireError } from '../errors.js';
import { success, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { isJsonMedia, mediaType } from '../mcp/media-type.js';
import { MAX_RESPONSE_BYTES, readText } from './body.js';
import type { RoutedCall, RoutedExecutor } from './call.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { failureAnswer } from './failure.js';
import { InstanceFailure, withFailover } from './failover.js';
import type { Pools } from './pool.js';
import { joinUrl } from './rest-request.js';

export interface RestPublishedOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly credentials: OutboundCredentials;
  readonly defaultTimeoutMs: number;
}

const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;

export function restPublishedExecutor(opts: RestPublishedOptions): RoutedExecutor {
  return async function* executeRestPublished(call: RoutedCall): AsyncGenerator<JsonRpcMessage> {
    const id = call.request.id;
    if (call.kind === 'prompt') return yield renderPrompt(call);
    // Nothing to complete from: a declared prompt's arguments are free text.
    if (call.kind === 'completion') return yield success(id, { completion: { values: [], total: 0, hasMore: false } });
    if (call.request.method !== 'resources/read') {
      return yield wireError('GW_METHOD_NOT_FOUND', id, `"${call.request.method}": backend "${call.backend.name}" is a REST backend, whose resources cannot be subscribed to`);
    }
    const answer = await read(opts, call);
    // A client that cancelled gets no answer.
    if (answer) yield answer;
  };
}

/** `prompts/get` of a declared prompt: `{argument}` in each message takes the argument's value. */
function renderPrompt(call: RoutedCall): JsonRpcResponse {
  const backend = call.backend as RestBackendConfig;
  const id = call.request.id;
  const prompt = backend.prompts.find((p) => p.name === call.params.name);
  if (!prompt) return wireError('GW_UNKNOWN_PROMPT', id, `"${String(call.params.name)}"`);
  const args = call.arguments as Record<string, string>;
  const missing = prompt.arguments.filter((a) => a.required && args[a.name] === undefined).map((a) => a.name);
  if (missing.length > 0) return wireError('GW_INVALID_PARAMS', id, `prompt "${call.target}" needs argument ${missing.map((m) => `"${m}"`).join(', ')}`);
  const messages = prompt.messages.map((m) => ({ role: m.role, content: { type: 'text', text: m.text.replace(PLACEHOLDER, (all, name: string) => args[name] ?? all) } }));
  return success(id, prompt.description === undefined ? { messages } : { description: prompt.description, messages });
}

/** `resources/read` of a declared resource: GET its path on an instance (safe to try the next one). */
async function read(opts: RestPublishedOptions, call: RoutedCall): Promise<JsonRpcResponse | undefined> {
  const backend = call.backend as RestBackendConfig;
  const id = call.request.id;
  const resource = backend.resources.find((r) => r.uri === call.params.uri);
  if (!resource) return wireError('GW_RESOURCE_NOT_FOUND', id, `"${call.target}"`);
  const deadline = new Deadline(call.abort, backend.timeoutMs ?? opts.defaultTimeoutMs);
  const fail = (code: Parameters<typeof upstreamFailure>[0], detail: string | undefined): JsonRpcResponse => upstreamFailure(code, id, detail);
  try {
    const headers = await opts.credentials.headers(backend, call.caller, { accept: resource.mimeType ?? '*/*', ...resource.http.headers, ...call.outboundHeaders });
    const res = await withFailover(
      opts.pools.get(backend.name, backend.urls),
      true,
      async (base) => {
        call.onInstance?.(base);
        const url = joinUrl(base, resource.http.path);
        const r = await opts.dispatcher.request({ origin: url.origin, path: url.pathname + url.search, method: 'GET', headers, signal: deadline.signal });
        if (r.statusCode >= 502 && r.statusCode <= 504) {
          await r.body.dump();
          throw new InstanceFailure(`HTTP ${r.statusCode}`, true);
        }
        return r;
      },
      () => deadline.signal.aborted,
    );
    if (res.statusCode === 404) {
      await res.body.dump();
      return wireError('GW_RESOURCE_NOT_FOUND', id, `"${call.target}" (HTTP 404 from backend "${backend.name}")`);
    }
    if (res.statusCode < 200 || res.statusCode >= 300) {
      const text = (await readText(res.body)).slice(0, 1000);
      return fail('GW_UPSTREAM_HTTP_ERROR', `HTTP ${res.statusCode} from backend "${backend.name}"${text ? `: ${text}` : ''}`);
    }
    const type = mediaType(res.headers['content-type']);
    const mimeType = resource.mimeType ?? (type || 'application/octet-stream');
    const uri = exposedUri(call.uriPrefix ?? '', resource.uri);
    if (type.startsWith('text/') || isJsonMedia(type)) return success(id, { contents: [{ uri, mimeType, text: await readText(res.body) }] });
    const bytes = Buffer.from(await res.body.arrayBuffer());
    if (bytes.length > MAX_RESPONSE_BYTES) return fail('GW_UPSTREAM_PROTOCOL', `the resource is larger than ${MAX_RESPONSE_BYTES} bytes`);
    return success(id, { contents: [{ uri, mimeType, blob: bytes.toString('base64') }] });
  } catch (err) {
    return failureAnswer(err, deadline, id, backend.name, fail);
  } finally {
    deadline.dispose();
  }
}
