import { describe, expect, it } from 'vitest';
import { readBurst } from '../../src/broker/burst.js';

/** Yields `ready` at once, then waits for `later` (never, unless resolved). */
async function* source(ready: string[], later: Promise<string>): AsyncGenerator<string> {
  yield* ready;
  yield await later;
}

describe('a burst of backend requests', () => {
  it('takes what is ready within the window and leaves the read under way for the held stream', async () => {
    let release!: (v: string) => void;
    const it = source(['sampling', 'roots'], new Promise((r) => (release = r)));
    const burst = await readBurst(it, 30, (m) => m === 'response');
    expect(burst.taken).toEqual(['sampling', 'roots']);
    release('response');
    expect(await burst.pending).toEqual({ value: 'response', done: false });
  });

  it('stops at a message that ends the call, and reads nothing with a window of 0', async () => {
    expect(await readBurst(source(['roots', 'response', 'after'], new Promise(() => {})), 1_000, (m) => m === 'response')).toEqual({ taken: ['roots', 'response'] });
    expect(await readBurst(source(['roots'], new Promise(() => {})), 0, () => false)).toEqual({ taken: [] });
  });
});
