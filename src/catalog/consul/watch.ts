import type { IncomingMessage } from 'node:http';
import type Consul from 'consul';
import { pause } from '../../wait.js';
import { ConsulError, consulFailure } from './client.js';

/** What the package's watch hands each read: pass it on whole (index, wait, timeout, and the context that cancels the read). */
export type BlockingOptions = Record<string, unknown>;

export interface WatchOptions {
  /** One read through the package, e.g. `(o) => consul.kv.get({ ...o, key, recurse: true })`. */
  readonly read: (opts: BlockingOptions) => Promise<unknown>;
  /** The endpoint, for messages (`/v1/kv/mcp/tools/`). */
  readonly what: string;
  /** Consul's address, for messages. */
  readonly url: string;
  readonly waitSeconds: number;
  /** Backoff cap between failed reads. */
  readonly retryMaxMs: number;
  /** Called with the first answer, with every answer whose index moved, and with the first answer after a failure. */
  readonly onData: (body: unknown) => void;
  /** Called after every read that Consul answered. */
  readonly onSuccess: () => void;
  readonly onError: (err: ConsulError) => void;
  readonly signal: AbortSignal;
  /** Least time between two reads, so a misbehaving index can never make a tight loop. */
  readonly minIntervalMs?: number;
}

/** The package doubles this each failure: 250 ms, 500 ms, … up to `retryMaxMs`. */
const BACKOFF_FACTOR_MS = 125;

/**
 * Follows one Consul resource with the `consul` package's watch (blocking queries; an index that
 * goes backwards resets; failures back off) until `signal` aborts. The package leaves four things
 * to its caller, added here:
 * - after a failure the next read does not block: the package would block on the old index, and a
 *   restarted agent counts the same indexes again, so recovery would wait up to `waitSeconds`;
 *   that first answer is delivered even when its index did not move;
 * - a read that succeeds without a change is reported (`onSuccess`): the package emits only changes,
 *   and readiness must turn fresh again after an outage;
 * - every failure is retried: the package gives up on an HTTP 400 or an answer without
 *   `X-Consul-Index`, which a proxy in front of Consul can produce during an outage;
 * - reads are at least `minIntervalMs` apart (Consul asks clients to rate-limit).
 */
export function watchConsul(consul: Consul, o: WatchOptions): void {
  const minInterval = o.minIntervalMs ?? 50;
  const waitMs = o.waitSeconds * 1000;
  let failed = false;
  let lastStart = 0;
  // Each answer is boxed so a change the watch emits can be told apart from one delivered here already.
  let recovered: { body: unknown } | undefined;
  const watch = consul.watch({
    method: async (opts: BlockingOptions): Promise<[IncomingMessage, { body: unknown }]> => {
      const idle = lastStart + minInterval - Date.now();
      if (idle > 0) await pause(idle, o.signal);
      if (o.signal.aborted) throw new ConsulError('watch stopped');
      lastStart = Date.now();
      const after = failed;
      let res: IncomingMessage;
      let body: unknown;
      try {
        [res, body] = (await o.read(after ? { ...opts, index: '0' } : opts)) as [IncomingMessage, unknown];
        if (!res.headers['x-consul-index']) throw new ConsulError(`Consul answered ${o.what} without X-Consul-Index`);
      } catch (err) {
        failed = true;
        throw consulFailure(err, o.what, o.url);
      }
      failed = false;
      o.onSuccess();
      const box = { body };
      if (after) {
        recovered = box;
        o.onData(body);
      }
      return [res, box];
    },
    // Consul adds up to wait/16 of jitter before answering a blocking query; allow for that and a slow answer.
    options: { wait: `${o.waitSeconds}s`, timeout: `${Math.ceil(waitMs + waitMs / 16 + 5_000)}ms` },
    backoffFactor: BACKOFF_FACTOR_MS,
    backoffMax: o.retryMaxMs,
  });
  watch.on('change', (box: { body: unknown }) => {
    if (box !== recovered) o.onData(box.body);
  });
  watch.on('error', (err: Error) => {
    if (!o.signal.aborted) o.onError(err instanceof ConsulError ? err : consulFailure(err, o.what, o.url));
  });
  if (o.signal.aborted) watch.end();
  else o.signal.addEventListener('abort', () => watch.end(), { once: true });
}
