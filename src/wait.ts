import { setTimeout as delay } from 'node:timers/promises';

/**
 * Wait for `work` at most `ms`, whichever comes first; `work` goes on either way. The timer is
 * kept referenced on purpose: at start nothing else may keep the process alive yet (no listener,
 * only unreferenced retry timers), and a start that waits on an unreachable dependency must
 * reach its listener instead of letting Node exit with code 0.
 */
export async function settleWithin(work: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([work, new Promise<void>((r) => (timer = setTimeout(r, ms)))]);
  clearTimeout(timer);
}

/** Wait `ms`, or less when `signal` aborts first; never rejects, and never keeps the process alive by itself. */
export function pause(ms: number, signal?: AbortSignal): Promise<unknown> {
  return delay(ms, undefined, signal ? { signal, ref: false } : { ref: false }).catch(() => undefined);
}

/** `pending`, unless `signal` aborts first (then its reason is thrown); no listener is left behind either way. */
export function untilAborted<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    void pending.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}
