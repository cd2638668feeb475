import { GatewayError } from '../errors.js';

/**
 * One upstream call's cancellation: aborted when the client goes away or cancels, or when the
 * call's time budget runs out (then `timedOut` is true). Always `dispose()` it.
 */
export class Deadline {
  private readonly controller = new AbortController();
  private readonly timer: NodeJS.Timeout;
  private readonly onParentAbort = (): void => this.controller.abort(this.parent.reason);
  timedOut = false;

  constructor(
    private readonly parent: AbortSignal,
    readonly ms: number,
  ) {
    if (parent.aborted) this.controller.abort(parent.reason);
    else parent.addEventListener('abort', this.onParentAbort, { once: true });
    this.timer = setTimeout(() => {
      this.timedOut = true;
      this.controller.abort(this.timeoutError());
    }, ms);
  }

  get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** The error to report when the time budget ran out. */
  timeoutError(): GatewayError {
    return new GatewayError('GW_UPSTREAM_TIMEOUT', `no answer within ${this.ms} ms`);
  }

  dispose(): void {
    clearTimeout(this.timer);
    this.parent.removeEventListener('abort', this.onParentAbort);
  }
}
