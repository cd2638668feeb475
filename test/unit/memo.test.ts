import { createHash, createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { memoize } from '../../src/memo.js';
import { heldSessionId } from '../../src/session/held.js';
import { sessionRef } from '../../src/telemetry/audit.js';
import { rateLimitHeaders, PRINCIPAL_HEADER } from '../../src/extproc/translate.js';
import { samePath } from '../../src/upstream/direct-stateless.js';
import type { Decision } from '../../src/admission/decision.js';
import type { Caller } from '../../src/auth/caller.js';

const initialize = (caller: Caller): Decision => ({ kind: 'initialize', message: { jsonrpc: '2.0', id: 1, method: 'initialize' }, protocolVersion: '2025-11-25', caller, sourceIp: null });

describe('memoize', () => {
  it('computes each key once while it is kept, and each key its own answer', () => {
    const seen: string[] = [];
    const upper = memoize((k: string) => (seen.push(k), k.toUpperCase()));
    expect([upper('a'), upper('b'), upper('a'), upper('b')]).toEqual(['A', 'B', 'A', 'B']);
    expect(seen).toEqual(['a', 'b']);
  });

  it('keeps at most its limit of entries: when full it starts over', () => {
    const seen: string[] = [];
    const f = memoize((k: string) => (seen.push(k), k.length), 2);
    f('a');
    f('bb');
    f('a');
    expect(seen).toEqual(['a', 'bb']);
    f('ccc'); // full: forgets a and bb
    f('a');
    expect(seen).toEqual(['a', 'bb', 'ccc', 'a']);
  });
});

describe('request-path digests kept per input', () => {
  it('a session reference is SHA-256 of the id, whichever ids came before', () => {
    for (const id of ['s-1', 's-2', 's-1']) expect(sessionRef(id)).toBe(createHash('sha256').update(id).digest('hex').slice(0, 32));
  });

  it('a held record id is the HMAC under the key given: a new key names new records', () => {
    const alice = { issuer: 'https://idp', subject: 'alice' };
    const expected = (key: Buffer): string => `held-${createHmac('sha256', key).update(`https://idp\u0000alice\u0000{}`).digest('base64url')}`;
    const [k1, k2] = [randomBytes(32), randomBytes(32)];
    expect(heldSessionId(k1, alice, {})).toBe(expected(k1));
    expect(heldSessionId(k2, alice, {})).toBe(expected(k2));
    expect(heldSessionId(k1, alice, {})).toBe(expected(k1));
  });

  it('the rate-limit principal header is each caller\'s own digest (anonymous callers by address)', () => {
    const digest = (key: string): string => createHash('sha256').update(key).digest('base64url').slice(0, 22);
    const of = (issuer: string | null, subject: string, ip: string): string | undefined =>
      rateLimitHeaders(initialize({ principal: { issuer, subject }, scopes: [], roles: [], claims: {} }), ip)[PRINCIPAL_HEADER];
    expect(of('https://idp', 'alice', '10.0.0.1')).toBe(digest('https://idp\u0000alice'));
    expect(of('https://idp', 'bob', '10.0.0.1')).toBe(digest('https://idp\u0000bob'));
    expect(of(null, 'anonymous', '10.0.0.1')).toBe(digest('anonymous\u000010.0.0.1'));
    expect(of(null, 'anonymous', '10.0.0.2')).toBe(digest('anonymous\u000010.0.0.2'));
  });

  it('samePath answers for the list of URLs it is given, a changed list afresh', () => {
    const urls = ['http://a:1/mcp', 'http://b:2/mcp'];
    expect(samePath(urls)).toBe(true);
    expect(samePath(urls)).toBe(true);
    expect(samePath([...urls, 'http://c:3/other'])).toBe(false);
  });
});
