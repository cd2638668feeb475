/**
 * `subscriptions/listen` (2026-07-28): a stateless client's long-lived stream of change
 * notifications, in place of the session era's GET stream and `resources/subscribe`. The stream
 * opens with `notifications/subscriptions/acknowledged` naming what the gateway honours, then
 * carries the list changes of the catalog and the updates of the resources it subscribed to
 * (which reach the gateway from the backends' own sessions, subscribed on the caller's held
 * record), each tagged with the subscription id (the listen request's JSON-RPC id).
 */
import type { Catalog } from '../catalog/catalog.js';
import { META } from '../mcp/era.js';
import { isObject, type JsonRpcId, type JsonRpcMessage, type JsonRpcNotification } from '../mcp/jsonrpc.js';
import { LIST_CHANGED, type ListKind } from '../mcp/methods.js';
import type { ListenFilter } from '../mcp/listen-filter.js';

/** Which filter flag a list's change notification answers to. */
const FLAG: { readonly [K in ListKind]: keyof ListenFilter } = {
  tools: 'toolsListChanged',
  prompts: 'promptsListChanged',
  resources: 'resourcesListChanged',
  resourceTemplates: 'resourcesListChanged',
};

interface Listener {
  readonly held: string;
  readonly uris: ReadonlySet<string>;
  push(message: JsonRpcNotification): void;
  end(): void;
}

/** The listen streams open on this process. */
export class Listeners {
  private readonly open = new Set<Listener>();

  constructor(private readonly catalog: Catalog) {}

  get size(): number {
    return this.open.size;
  }

  /**
   * One listen stream: the acknowledgement of `honored` (list changes as asked, the resources that
   * could be subscribed), then what it asked for, until `signal` aborts or the gateway stops.
   */
  async *stream(id: JsonRpcId, held: string, honored: ListenFilter, signal: AbortSignal): AsyncGenerator<JsonRpcMessage> {
    const tag = (m: JsonRpcNotification): JsonRpcNotification => ({ ...m, params: { ...m.params, _meta: { ...(isObject(m.params?._meta) ? m.params._meta : {}), [META.subscriptionId]: id } } });
    const queue: JsonRpcNotification[] = [];
    let wake: (() => void) | undefined;
    let ended = false;
    const listener: Listener = {
      held,
      uris: new Set(honored.resourceSubscriptions ?? []),
      push: (m) => {
        queue.push(tag(m));
        wake?.();
      },
      end: () => {
        ended = true;
        wake?.();
      },
    };
    const off = this.catalog.onChange((_s, changed) => {
      for (const method of new Set([...changed].filter((list) => honored[FLAG[list]] === true).map((list) => LIST_CHANGED[list]))) listener.push({ jsonrpc: '2.0', method });
    });
    const onAbort = (): void => listener.end();
    signal.addEventListener('abort', onAbort, { once: true });
    this.open.add(listener);
    try {
      yield tag({ jsonrpc: '2.0', method: 'notifications/subscriptions/acknowledged', params: { notifications: honored } });
      while (!ended && !signal.aborted) {
        const next = queue.shift();
        if (next) {
          yield next;
          continue;
        }
        await new Promise<void>((resolve) => (wake = resolve));
        wake = undefined;
      }
    } finally {
      off();
      signal.removeEventListener('abort', onAbort);
      this.open.delete(listener);
    }
  }

  /** A backend's `notifications/resources/updated` for a held record: to its listeners that subscribed the URI. False when none did. */
  resourceUpdated(held: string, message: JsonRpcNotification): boolean {
    const uri = message.params?.uri;
    let sent = false;
    for (const l of this.open) {
      if (l.held !== held || typeof uri !== 'string' || !l.uris.has(uri)) continue;
      l.push(message);
      sent = true;
    }
    return sent;
  }

  /** End every listen stream (the gateway stops): each ends without a result, as a dropped stream. */
  closeAll(): void {
    for (const l of this.open) l.end();
  }
}
