import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { exposeResultUris } from '../catalog/uris.js';
import { isNotification, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import { openStream, replyMessages, type McpEndpoint } from './mcp-wire.js';
import { describeNetworkError } from './transport.js';

/** Where a followed backend session's notifications go: the client session they are for. */
export type BackendNotificationSink = (clientSessionId: string, message: JsonRpcNotification) => void;

/**
 * GET streams the gateway holds on client sessions' backend sessions, opened when a client
 * subscribes to a resource: the backend sends `notifications/resources/updated` (and list
 * changes) there, not in answer to a request. Each notification is handed to the sink with the
 * URIs it names exposed (src/catalog/uris.ts). One stream per client session and backend session;
 * it lives on this process until the client session ends or the backend closes it.
 */
export class BackendStreams {
  private readonly open = new Map<string, { clientSessionId: string; abort: AbortController }>();

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
      for await (const m of replyMessages(reply)) {
        if (!isNotification(m)) continue;
        this.sink(clientSessionId, m.params ? { ...m, params: exposeResultUris(prefix, m.params) } : m);
      }
    } catch (err) {
      if (!signal.aborted) this.logger.debug({ backend, err: describeNetworkError(err) }, 'backend GET stream ended');
    }
  }
}
