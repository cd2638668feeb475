import { describe, expect, it } from 'vitest';
import { InstancePool } from '../../src/upstream/pool.js';
import { withFailover, InstanceFailure } from '../../src/upstream/failover.js';
import { GatewayError } from '../../src/errors.js';

describe('instance pool', () => {
  it('rotates the starting instance', () => {
    const p = new InstancePool(['a', 'b', 'c'], 1000);
    expect([p.order()[0], p.order()[0], p.order()[0], p.order()[0]]).toEqual(['a', 'b', 'c', 'a']);
  });

  it('tries a failed instance last during its cooldown, then normally again', () => {
    let now = 0;
    const p = new InstancePool(['a', 'b', 'c'], 1000, () => now);
    p.failed('a');
    for (let i = 0; i < 3; i++) expect(p.order().at(-1)).toBe('a');
    now = 1001;
    expect(p.order()).toContain('a');
    expect(p.isCooling('a')).toBe(false);
  });

  it('keeps cooldowns of instances that stay when the list changes', () => {
    const p = new InstancePool(['a', 'b'], 1000, () => 0);
    p.failed('a');
    const q = p.withUrls(['a', 'c']);
    expect(q.isCooling('a')).toBe(true);
    expect(q.isCooling('c')).toBe(false);
  });
});

describe('withFailover', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' });
  const reset = Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' });

  it('moves on after a connection that was never made', async () => {
    const p = new InstancePool(['a', 'b'], 1000);
    const seen: string[] = [];
    const out = await withFailover(p, false, async (u) => {
      seen.push(u);
      if (u === 'a') throw refused;
      return u;
    });
    expect(out).toBe('b');
    expect(seen).toEqual(['a', 'b']);
  });

  it('stops after an ambiguous failure unless the call is retry-safe', async () => {
    const attempt = async (u: string) => {
      if (u === 'a') throw reset;
      return u;
    };
    await expect(withFailover(new InstancePool(['a', 'b'], 1000), false, attempt)).rejects.toThrow(GatewayError);
    expect(await withFailover(new InstancePool(['a', 'b'], 1000), true, attempt)).toBe('b');
    const failure = async (u: string) => {
      if (u === 'a') throw new InstanceFailure('HTTP 503', true);
      return u;
    };
    expect(await withFailover(new InstancePool(['a', 'b'], 1000), true, failure)).toBe('b');
  });
});
