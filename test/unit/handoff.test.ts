import { describe, expect, it } from 'vitest';
import type { Decision } from '../../src/admission/decision.js';
import { DecisionHandoff } from '../../src/admission/handoff.js';

const decision = (n: number): Decision => ({ kind: 'reject', code: 'GW_INTERNAL', status: 500, body: { jsonrpc: '2.0', id: n, error: { code: -32603, message: 'x' } } });

describe('DecisionHandoff', () => {
  it('gives a decision back once, for its own ticket only', () => {
    const h = new DecisionHandoff();
    const a = h.put(decision(1));
    const b = h.put(decision(2));
    expect(a).not.toBe(b);
    expect(h.take(b)).toEqual(decision(2));
    expect(h.take(b)).toBeUndefined();
    expect(h.take('made-up')).toBeUndefined();
    expect(h.take(undefined)).toBeUndefined();
    expect(h.take(a)).toEqual(decision(1));
  });

  it('forgets tickets nobody took once they expire, so memory stays bounded', () => {
    let now = 0;
    const h = new DecisionHandoff(1_000, () => now);
    const old = h.put(decision(1));
    now = 500;
    h.put(decision(2));
    now = 1_200;
    h.put(decision(3));
    // The expired first ticket was swept; the second (expires at 1500) and third remain.
    expect(h.size).toBe(2);
    expect(h.take(old)).toBeUndefined();
  });
});
