/**
 * Memoisation for the request path, where the same few inputs (a session id, a caller, an Accept
 * header) come back on every call and their derived values (digests, parses) cost more than a
 * map lookup. Bounded, since the inputs come from clients: when full it starts over, which keeps
 * the hot entries cheap to rebuild and a flood of distinct inputs from holding memory.
 */

/** The most entries a memo keeps unless told otherwise. */
export const MEMO_LIMIT = 10_000;

/**
 * `compute` behind a cache of at most `limit` entries keyed by its string argument. `compute`
 * must be pure: a cached answer stands for as long as the entry lives.
 */
export function memoize<V>(compute: (key: string) => V, limit = MEMO_LIMIT): (key: string) => V {
  const cache = new Map<string, V>();
  return (key) => {
    let v = cache.get(key);
    if (v === undefined) {
      v = compute(key);
      if (cache.size >= limit) cache.clear();
      cache.set(key, v);
    }
    return v;
  };
}
