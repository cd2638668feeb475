import { GatewayError } from '../errors.js';
import type { InstancePool } from './pool.js';
import { describeNetworkError, isNetworkError, neverReachedBackend } from './transport.js';

/** Thrown by an attempt to say the instance failed in a way worth trying elsewhere (e.g. HTTP 503). */
export class InstanceFailure extends Error {
  constructor(message: string, readonly reached: boolean, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'InstanceFailure';
  }
}

/** How a client reads of one instance: its position among the backend's, never its URL. */
export function instanceLabel(urls: readonly string[], url: string): string {
  const i = urls.indexOf(url);
  return i < 0 ? 'an instance' : `instance ${i + 1} of ${urls.length}`;
}

/**
 * Run `attempt` on the pool's instances in order. A failed instance enters its cooldown; the call
 * moves on to the next instance only when that cannot duplicate a side effect: the request never
 * reached the failed one, or the tool is retry-safe (read-only or idempotent). Only failures of
 * the instance count (the network, an {@link InstanceFailure}): anything else is the request's
 * fault or a bug, and is rethrown without cooling a healthy instance. Instances are named by
 * position in what the client reads, never by URL.
 */
export async function withFailover<T>(
  pool: InstancePool,
  retrySafe: boolean,
  attempt: (url: string) => Promise<T>,
  isAborted: () => boolean = () => false,
): Promise<T> {
  const tried: string[] = [];
  for (const url of pool.order()) {
    const name = instanceLabel(pool.urls, url);
    try {
      const out = await attempt(url);
      pool.succeeded(url);
      return out;
    } catch (err) {
      if (isAborted()) throw err;
      if (err instanceof GatewayError) {
        if (err.code === 'GW_UPSTREAM_TIMEOUT') pool.failed(url);
        throw err;
      }
      if (!(err instanceof InstanceFailure) && !isNetworkError(err)) throw err;
      pool.failed(url);
      const reached = err instanceof InstanceFailure ? err.reached : !neverReachedBackend(err);
      tried.push(`${name}: ${err instanceof InstanceFailure ? err.message : describeNetworkError(err)}`);
      if (reached && !retrySafe) {
        throw new GatewayError('GW_UPSTREAM_UNAVAILABLE', `${tried.join('; ')}; not retried elsewhere because the tool may have side effects`, { cause: err });
      }
    }
  }
  throw new GatewayError('GW_UPSTREAM_UNAVAILABLE', `tried ${tried.join('; ')}`);
}
