import { describe, expect, it } from 'vitest';
import { isNetworkError } from '../../src/upstream/transport.js';

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
