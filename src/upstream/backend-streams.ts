import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { exposeResultUris } from '../catalog/uris.js';
import { isNotification, isRequest, type JsonRpcMessage, type JsonRpcNotification, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import { RESOURCE_UPDATED } from '../mcp/methods.js';
import { openStream, replyMessages, type McpEndpoint } from './mcp-wire.js';
import { describeNetworkError } from './transport.js';

/** Which backend session a message on a followed stream comes from. */
export interface StreamSource {
  readonly backend: string;
  readonly endpoint: McpEndpoint;
  /**
   * Sent to this instance's own subscription (a stateless backend's `subscriptions/listen`, which
   * each instance opens for the URIs subscribed on it), not on the one backend session all
   * instances share: every other instance that subscribed hears it from its own.
   */
  readonly perInstance?: true;
}

/**
 * Where what a followed backend session sends goes: the client session it is for. Requests
 * (sampling, elicitation, roots outside a call) are passed unchanged, to be relayed.
 */
export type BackendNotificationSink = (clientSessionId: string, message: JsonRpcNotification | JsonRpcRequest, from: StreamSource) => void;

/**
 * GET streams the gateway holds on client sessions' backend sessions, opened when a client
 * subscribes to a resource, or calls a tool of the backend while it declares capabilities backends
 * may use outside a call: the backend sends `notifications/resources/updated`, list changes, log
 * messages and its own requests to the client there, not in answer to a request. Each notification is handed to the sink with the
 * URIs it names exposed (src/catalog/uris.ts). One stream per client session and backend session;
 * it lives on this process until the client session ends or the backend closes it.
 */
export class BackendStreams {
  private readonly open = new Map<string, { clientSessionId: string; abort: AbortController; uris?: ReadonlySet<string> }>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly sink: BackendNotificationSink,
    private readonly logger: Logger,
  ) {}

  /** Follow a backend session for a client session, unless it is followed already; never throws. */
  follow(clientSessionId: string, backend: string, prefix: string, ep: McpEndpoint): void {
    const key = `${clientSessionId}\u0000${backend}\u0000${ep.sessionId ?? ''}`;
    if (this.open.has(key) || !ep.sessionId) return; // a stateless backend has no stream to follow
    const abort = new AbortController();
    this.open.set(key, { clientSessionId, abort });
    void this.relay(clientSessionId, backend, prefix, ep, abort.signal).finally(() => {
      if (this.open.get(key)?.abort === abort) this.open.delete(key);
    });
  }

  /**
   * A client session's resource subscriptions at a stateless-era backend, which has no session
   * stream: one `subscriptions/listen` request (`open`) per client session and backend, naming
   * every URI subscribed (the backend's URIs), reopened when the set changes and closed when it
   * empties. Its `notifications/resources/updated` go to the sink like a followed stream's.
   */
  listen(clientSessionId: string, backend: string, prefix: string, change: { readonly add?: string; readonly remove?: string }, open: (uris: string[], signal: AbortSignal) => AsyncGenerator<JsonRpcMessage>): void {
    const key = `${clientSessionId}\u0000${backend}\u0000listen`;
    const prev = this.open.get(key);
    const uris = new Set(prev?.uris ?? []);
    if (change.add !== undefined) uris.add(change.add);
    if (change.remove !== undefined) uris.delete(change.remove);
    prev?.abort.abort();
    this.open.delete(key);
    if (uris.size === 0) return;
    const abort = new AbortController();
    this.open.set(key, { clientSessionId, abort, uris });
    const from: StreamSource = { backend, endpoint: { url: '', headers: {} }, perInstance: true };
    void (async () => {
      try {
        for await (const m of open([...uris], abort.signal)) {
          if (isNotification(m) && m.method === RESOURCE_UPDATED) this.sink(clientSessionId, m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m, from);
        }
      } catch (err) {
        if (!abort.signal.aborted) this.logger.debug({ backend, err: describeNetworkError(err) }, 'backend subscriptions/listen stream ended');
      } finally {
        if (this.open.get(key)?.abort === abort) this.open.delete(key);
      }
    })();
  }

  /** Stop following every backend session of a client session (DELETE, expiry). */
  close(clientSessionId: string): void {
    for (const [key, s] of this.open) {
      if (s.clientSessionId !== clientSessionId) continue;
      s.abort.abort();
      this.open.delete(key);
    }
  }

  closeAll(): void {
    for (const s of this.open.values()) s.abort.abort();
    this.open.clear();
  }

  private async relay(clientSessionId: string, backend: string, prefix: string, ep: McpEndpoint, signal: AbortSignal): Promise<void> {
    try {
      const reply = await openStream(this.dispatcher, ep, signal);
      if (reply.status !== 200 || reply.contentType !== 'text/event-stream') {
        await reply.body.dump();
        this.logger.debug({ backend, status: reply.status }, 'backend offers no GET stream; resource updates are not relayed');
        return;
      }
      const from: StreamSource = { backend, endpoint: ep };
      for await (const m of replyMessages(reply)) {
        if (isRequest(m)) this.sink(clientSessionId, m, from);
        else if (isNotification(m)) this.sink(clientSessionId, m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m, from);
      }
    } catch (err) {
      if (!signal.aborted) this.logger.debug({ backend, err: describeNetworkError(err) }, 'backend GET stream ended');
    }
  }
}
