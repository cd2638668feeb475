import { GatewayError } from '../errors.js';

/**
 * One upstream call's time budget. It aborts the call's own controller (the one the client's
 * cancellation or disconnect aborts too), so a call needs one controller and no listeners;
 * `timedOut` tells the two apart. Always `dispose()` it.
 */
export class Deadline {
  private readonly timer: NodeJS.Timeout;
  private readonly startedAt = Date.now();
  timedOut = false;

  constructor(
    private readonly controller: AbortController,
    readonly ms: number,
  ) {
    this.timer = setTimeout(() => {
      this.timedOut = true;
      controller.abort(this.timeoutError());
    }, ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** What is left of the budget (at least 1 ms), for a transport that enforces it itself. */
  remainingMs(): number {
    return Math.max(1, this.ms - (Date.now() - this.startedAt));
  }

  /** The error to report when the time budget ran out. */
  timeoutError(): GatewayError {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `no answer within ${this.ms} ms`);
  }

  dispose(): void {
    clearTimeout(this.timer);
  }

  /** A deadline for background work under a parent signal (discovery): its own controller, linked to the parent. */
  static under(parent: AbortSignal, ms: number): Deadline {
    const controller = new AbortController();
    if (parent.aborted) controller.abort(parent.reason);
    else parent.addEventListener('abort', () => controller.abort(parent.reason), { once: true, signal: controller.signal });
    const d = new Deadline(controller, ms);
    const dispose = d.dispose.bind(d);
    d.dispose = () => {
      dispose();
      if (!controller.signal.aborted) controller.abort();
    };
    return d;
  }
}
