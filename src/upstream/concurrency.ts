/**
 * Each backend's cap on calls open at once (`backends[].maxConcurrentCalls`), counted on this
 * process. A fragile backend (a legacy API that falls over at 50 requests, an MCP server with 8
 * workers) is better served by a call refused at once, which the model can retry, than by one
 * more call piled onto it: so a call past the cap is not queued but answered `GW_UPSTREAM_BUSY`.
 * In the Envoy topology, Envoy's circuit breaker caps the calls it routes itself (src/xds/resources.ts).
 */
import { isResponse, type JsonRpcMessage } from '../mcp/jsonrpc.js';
import type { UpstreamCall } from './call.js';
import { failureShapeOf } from './failure.js';

/** Runs one call to a backend: notifications, then one response (a {@link ToolExecutor} or a {@link RoutedExecutor}). */
type Executor<C extends UpstreamCall> = (call: C) => AsyncGenerator<JsonRpcMessage>;

export class ConcurrencyCaps {
  /** Calls open now, by backend name; a backend with none has no entry. */
  private readonly open = new Map<string, number>();

  /** How many calls to `backend` are open on this process now. */
  openCalls(backend: string): number {
    return this.open.get(backend) ?? 0;
  }

  /**
   * A slot for one call to a backend of cap `max`: the function that gives it back (at most once,
   * however often it is called), or undefined when `max` calls are open already.
   */
  take(backend: string, max: number): (() => void) | undefined {
    const n = this.openCalls(backend);
    if (n >= max) return undefined;
    this.open.set(backend, n + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.openCalls(backend) - 1;
      if (left > 0) this.open.set(backend, left);
      else this.open.delete(backend);
    };
  }

  /**
   * `execute`, each call holding a slot of its backend from its start until its generator ends:
   * answered, failed, timed out, cancelled by the client, cut, or closed early by its reader (a
   * `return()`, which a `for await` that stops sends). A call past the cap gets `GW_UPSTREAM_BUSY`
   * in its request's failure shape, without reaching the backend. A backend without a cap runs
   * `execute` as it is: no layer on its calls.
   */
  limit<C extends UpstreamCall>(execute: Executor<C>): Executor<C> {
    return (call) => (call.backend.maxConcurrentCalls === undefined ? execute(call) : this.capped(call, call.backend.maxConcurrentCalls, execute));
  }

  private async *capped<C extends UpstreamCall>(call: C, max: number, execute: Executor<C>): AsyncGenerator<JsonRpcMessage> {
    const { backend, request } = call;
    // Taken when the call starts (its first `next()`), not when it is planned: a call never started holds nothing.
    const release = this.take(backend.name, max);
    if (!release) {
      yield failureShapeOf(request.method, request.id)('GW_UPSTREAM_BUSY', `backend "${backend.name}" has ${max} calls open (its maxConcurrentCalls); retry shortly`);
      return;
    }
    try {
      for await (const m of execute(call)) {
        // Given back with the backend's answer, before the client reads it: a client that calls
        // again as soon as it has the answer finds the slot free, whatever cleanup the call still does.
        if (isResponse(m)) release();
        yield m;
      }
    } finally {
      release();
    }
  }
}
