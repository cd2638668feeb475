/**
 * The requests the broker runs on this process that reach a backend, by client session and JSON-RPC
 * id: what a client's `notifications/cancelled` stops, what a draining server waits for, and what
 * its shutdown cuts. One entry per request id: a request made of several backend requests (a
 * `tasks/list` reading many tasks) is one entry, its parts each stopped with it.
 */
import type { JsonRpcId, JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { SessionRecord } from '../session/store.js';
import { inflightKey, newInflightKey } from '../upstream/inflight.js';
import type { Reply } from './reply.js';

/** Starts a request's messages with the controller that stops it. */
export type Start = (abort: AbortController) => AsyncGenerator<JsonRpcMessage>;

export class RunningCalls {
  private readonly byKey = new Map<string, AbortController>();

  /** Run a request, cancellable by the client while it runs here; its entry goes with the reply's `finish`. */
  run(session: SessionRecord, requestId: JsonRpcId, start: Start): Reply {
    const abort = new AbortController();
    const done = this.register(session.id, requestId, abort);
    return { kind: 'messages', session, messages: start(abort), abort, finish: done };
  }

  /**
   * Like {@link run} for one part of a request registered as a whole (`within` is its signal): not
   * registered itself, stopped when `within` is, and stopping nothing else when it ends or times out.
   */
  runWithin(session: SessionRecord, within: AbortSignal, start: Start): Reply {
    const abort = new AbortController();
    const stop = (): void => abort.abort(within.reason);
    if (within.aborted) stop();
    else within.addEventListener('abort', stop, { once: true });
    return { kind: 'messages', session, messages: start(abort), abort, finish: () => within.removeEventListener('abort', stop) };
  }

  /** Register `abort` under the request's id; the function that takes it off again (only if still its own). */
  register(sessionId: string, requestId: JsonRpcId, abort: AbortController): () => void {
    const key = newInflightKey(sessionId, requestId);
    this.byKey.set(key, abort);
    return () => {
      if (this.byKey.get(key) === abort) this.byKey.delete(key);
    };
  }

  /** Stop the request the client cancelled; false when none of that id runs here. */
  cancel(sessionId: string, requestId: JsonRpcId, reason: Error): boolean {
    const running = this.byKey.get(inflightKey(sessionId, requestId));
    running?.abort(reason);
    return running !== undefined;
  }

  /** How many requests run now. */
  get size(): number {
    return this.byKey.size;
  }

  /** Stop every one of them (shutdown after the grace period); how many there were. */
  cutAll(reason: Error): number {
    const n = this.byKey.size;
    for (const abort of this.byKey.values()) abort.abort(reason);
    return n;
  }
}
