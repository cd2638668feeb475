/**
 * A session-era backend that needs several answers sends its requests one after the other on the
 * call's stream (the SDKs' `Promise.all` of elicitation, sampling and roots), while a stateless
 * client can be asked only once per round: one `input_required` with every request in it. So once
 * the first request came, what follows within a short settle window
 * (`stateless.inputSettleMs`) joins it.
 */

/** What a burst gathered, and the read still under way when the window closed (its message comes next). */
export interface Burst<T> {
  readonly taken: T[];
  readonly pending?: Promise<IteratorResult<T>>;
}

/**
 * Read `source` for `ms` more (not at all when 0), stopping early at its end or after a message
 * `ends` says ends the burst (a final response: nothing will be asked after it).
 */
export async function readBurst<T>(source: AsyncIterator<T>, ms: number, ends: (m: T) => boolean): Promise<Burst<T>> {
  const taken: T[] = [];
  if (ms <= 0) return { taken };
  let timer: NodeJS.Timeout | undefined;
  const settled = new Promise<'settled'>((resolve) => (timer = setTimeout(() => resolve('settled'), ms)));
  try {
    for (;;) {
      const pending = source.next();
      const next = await Promise.race([pending, settled]);
      if (next === 'settled') return { taken, pending };
      if (next.done) return { taken };
      taken.push(next.value);
      if (ends(next.value)) return { taken };
    }
  } finally {
    clearTimeout(timer);
  }
}
