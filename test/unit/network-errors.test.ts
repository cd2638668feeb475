import { describe, expect, it } from 'vitest';
import { describeNetworkError, isNetworkError } from '../../src/upstream/transport.js';
import { withFailover } from '../../src/upstream/failover.js';
import { InstancePool } from '../../src/upstream/pool.js';

const withCode = (code: string): Error => Object.assign(new Error(code), { code });

describe('isNetworkError', () => {
  it('takes refused connections, resets, DNS failures and undici errors, at any depth of causes', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'UND_ERR_SOCKET']) {
      expect(isNetworkError(withCode(code)), code).toBe(true);
      expect(isNetworkError(new Error('fetch failed', { cause: withCode(code) })), `${code} as a cause`).toBe(true);
    }
  });

  it("does not take Node's programming errors for network trouble", () => {
    expect(isNetworkError(withCode('ERR_INVALID_ARG_TYPE'))).toBe(false);
    expect(isNetworkError(new TypeError('x is undefined'))).toBe(false);
  });
});

describe('requests undici refused to send', () => {
  it('are not network trouble, so they never cool an instance down', async () => {
    expect(isNetworkError(withCode('UND_ERR_INVALID_ARG'))).toBe(false);
    const pool = new InstancePool(['http://10.0.0.1:1', 'http://10.0.0.2:1'], 60_000);
    await expect(withFailover(pool, true, async () => Promise.reject(withCode('UND_ERR_INVALID_ARG')))).rejects.toThrow('UND_ERR_INVALID_ARG');
    expect(pool.urls.filter((u) => pool.isCooling(u))).toEqual([]);
  });
});

describe('what a failed call tells the client', () => {
  it('names the failure and the instance by position, never an internal address', async () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:8443'), { code: 'ECONNREFUSED' });
    expect(describeNetworkError(new Error('fetch failed', { cause: refused }))).toBe('connection refused (ECONNREFUSED)');
    const pool = new InstancePool(['http://10.0.0.1:8443', 'http://10.0.0.2:8443'], 60_000);
    const err = await withFailover(pool, true, async () => Promise.reject(refused)).catch((e: Error) => e);
    expect(err.message).toMatch(/instance 1 of 2: connection refused \(ECONNREFUSED\); instance 2 of 2: connection refused/);
    expect(err.message).not.toContain('10.0.0.');
  });
});
