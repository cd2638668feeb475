import { afterEach, describe, expect, it, vi } from 'vitest';
import { Backoff, retryUntil } from '../../src/wait.js';

afterEach(() => vi.restoreAllMocks());

const take = (b: Backoff, n: number): number[] => Array.from({ length: n }, () => b.next());

describe('Backoff', () => {
  it('doubles from the first delay and stays at the cap', () => {
    expect(take(new Backoff({ firstMs: 500, maxMs: 5_000 }), 7)).toEqual([500, 1_000, 2_000, 4_000, 5_000, 5_000, 5_000]);
  });

  it('starts from the first delay again after a reset', () => {
    const b = new Backoff({ firstMs: 1_000, maxMs: 30_000 });
    take(b, 4);
    b.reset();
    expect(take(b, 2)).toEqual([1_000, 2_000]);
  });

  it('takes at most the jitter share off each delay, never adds to it', () => {
    const random = vi.spyOn(Math, 'random');
    random.mockReturnValueOnce(0).mockReturnValueOnce(0.5).mockReturnValueOnce(0.999999);
    const [a, b, c] = take(new Backoff({ firstMs: 1_000, maxMs: 2_000, jitter: 0.2 }), 3);
    expect(a).toBe(1_000);
    expect(b).toBe(1_800);
    expect(c).toBeGreaterThan(1_600);
    expect(c).toBeLessThan(1_601);
  });

  it('refuses settings that would never wait or never grow', () => {
    expect(() => new Backoff({ firstMs: 0, maxMs: 10 })).toThrow(/firstMs/);
    expect(() => new Backoff({ firstMs: 10, maxMs: 5 })).toThrow(/firstMs <= maxMs/);
    expect(() => new Backoff({ firstMs: 10, maxMs: 20, jitter: 1.5 })).toThrow(/jitter/);
  });
});

describe('retryUntil', () => {
  it('retries a failing attempt with growing pauses until it succeeds', async () => {
    const pauses: number[] = [];
    const attempts: number[] = [];
    const ok = await retryUntil(
      async (n) => {
        attempts.push(n);
        if (n < 4) throw new Error(`down ${n}`);
      },
      { firstMs: 1, maxMs: 4, onFailure: (err, n, ms) => {
        expect((err as Error).message).toBe(`down ${n}`);
        pauses.push(ms);
      } },
    );
    expect(ok).toBe(true);
    expect(attempts).toEqual([0, 1, 2, 3, 4]);
    expect(pauses).toEqual([1, 2, 4, 4]);
  });

  it('ends during a pause when the signal aborts, without another attempt', async () => {
    const abort = new AbortController();
    let attempts = 0;
    const done = retryUntil(
      async () => {
        attempts++;
        throw new Error('down');
      },
      // A pause of an hour: only the abort can end this loop before the test times out.
      { firstMs: 3_600_000, maxMs: 3_600_000, signal: abort.signal, onFailure: () => queueMicrotask(() => abort.abort()) },
    );
    expect(await done).toBe(false);
    expect(attempts).toBe(1);
  });

  it('makes no attempt when already aborted', async () => {
    const attempt = vi.fn(async () => undefined);
    expect(await retryUntil(attempt, { firstMs: 1, maxMs: 1, signal: AbortSignal.abort() })).toBe(false);
    expect(attempt).not.toHaveBeenCalled();
  });

  it('does not keep the process alive while it pauses', async () => {
    const abort = new AbortController();
    const timers = (): number => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const before = timers();
    let during = -1;
    const done = retryUntil(
      async () => {
        throw new Error('down');
      },
      {
        firstMs: 3_600_000,
        maxMs: 3_600_000,
        signal: abort.signal,
        onFailure: () =>
          setImmediate(() => {
            during = timers();
            abort.abort();
          }),
      },
    );
    await done;
    expect(during).toBe(before);
  });
});
