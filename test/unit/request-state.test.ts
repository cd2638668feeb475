import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { openRound, sealRound, type HeldRound } from '../../src/session/request-state.js';

const key = randomBytes(32);
const alice = { issuer: 'https://idp', subject: 'alice' };
const round: HeldRound = { principal: alice, method: 'tools/call', name: 'ask', session: 'held-x', stream: 's', seq: 0, relays: ['gw-relay-1'], skip: [], expiresAt: Date.now() + 60_000 };
const binding = { principal: alice, method: 'tools/call', name: 'ask' };

describe('requestState sealing', () => {
  it('opens what it sealed for the same caller and request', () => {
    const opened = openRound(key, sealRound(key, round), binding);
    expect(opened).toEqual({ ok: true, round });
  });

  it('refuses a state altered by one bit', () => {
    const raw = Buffer.from(sealRound(key, round), 'base64url');
    raw[raw.length - 1]! ^= 1;
    expect(openRound(key, raw.toString('base64url'), binding)).toMatchObject({ ok: false, detail: expect.stringMatching(/not a requestState this gateway issued/) });
  });

  it('refuses a state sealed with another key (a forged one)', () => {
    expect(openRound(key, sealRound(randomBytes(32), round), binding)).toMatchObject({ ok: false });
    expect(openRound(key, 'hello', binding)).toMatchObject({ ok: false });
    expect(openRound(key, 42, binding)).toMatchObject({ ok: false });
  });

  it("refuses another caller's state as if it were forged", () => {
    const other = openRound(key, sealRound(key, round), { ...binding, principal: { issuer: 'https://idp', subject: 'mallory' } });
    expect(other).toEqual(openRound(key, 'AQ' + 'A'.repeat(60), binding));
  });

  it('refuses an expired state and one presented on another request', () => {
    expect(openRound(key, sealRound(key, { ...round, expiresAt: Date.now() - 1 }), binding)).toMatchObject({ ok: false, detail: expect.stringMatching(/expired/) });
    expect(openRound(key, sealRound(key, round), { ...binding, name: 'other' })).toMatchObject({ ok: false, detail: expect.stringMatching(/another request/) });
  });
});

describe('a stateless backend requestState passed through', () => {
  const passed = { kind: 'passed' as const, principal: alice, method: 'tools/call', name: 'ask', backend: 'modern', state: 'the-backend-state', expiresAt: Date.now() + 60_000 };

  it("carries the backend's state sealed, bound like a held round", () => {
    const sealed = sealRound(key, passed);
    expect(Buffer.from(sealed, 'base64url').toString('latin1')).not.toContain('the-backend-state');
    expect(openRound(key, sealed, binding)).toEqual({ ok: true, round: passed });
    expect(openRound(key, sealed, { ...binding, principal: { issuer: 'https://idp', subject: 'mallory' } })).toMatchObject({ ok: false });
  });
});
