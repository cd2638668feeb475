import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller.js';
import { backendSchema, configSchema } from '../../src/config/schema.js';
import { buildSnapshot } from '../../src/catalog/snapshot.js';
import { readAnswer } from '../../src/confirm/outcome.js';
import { checkBinding, type ConfirmationRound } from '../../src/confirm/stateless.js';
import { readDecision } from '../../src/policy/decision.js';
import { CONFIRM_ONLY_FOR_TOOLS } from '../../src/policy/engine.js';
import { policySubject, promptPart, toolPart } from '../../src/policy/input.js';
import { RulesPolicy } from '../../src/policy/rules.js';
import { definitionDigest } from '../../src/pinning/digest.js';

describe('reading an OPA decision', () => {
  it('keeps every shape from before confirmation', () => {
    expect(readDecision(true)).toEqual({ allow: true });
    expect(readDecision(false)).toEqual({ allow: false, reason: 'denied by policy' });
    expect(readDecision({ allow: true })).toEqual({ allow: true });
    expect(readDecision({ allow: false, reason: 'no' })).toEqual({ allow: false, reason: 'no' });
    expect(readDecision({ allow: true, confirm: false })).toEqual({ allow: true });
  });

  it('reads confirm as "allowed once the user confirms", which is no plain allow', () => {
    expect(readDecision({ allow: true, confirm: true })).toEqual({ allow: false, confirm: { message: null }, reason: CONFIRM_ONLY_FOR_TOOLS });
    expect(readDecision({ allow: true, confirm: {} })?.confirm).toEqual({ message: null });
    expect(readDecision({ allow: true, confirm: { message: 'Sure?' } })?.confirm).toEqual({ message: 'Sure?' });
    expect(readDecision({ allow: true, confirm: { message: 'x'.repeat(5_000) } })?.confirm?.message).toHaveLength(1_000);
  });

  it('lets a denial stand whatever confirm says', () => {
    expect(readDecision({ allow: false, reason: 'no', confirm: { message: 'Sure?' } })).toEqual({ allow: false, reason: 'no' });
  });

  it('takes a confirm it cannot read for no decision (fail closed), not for an allow', () => {
    expect(readDecision({ allow: true, confirm: 'yes' })).toBeUndefined();
    expect(readDecision({ allow: true, confirm: { message: 42 } })).toBeUndefined();
    expect(readDecision({ allow: true, confirm: [] })).toBeUndefined();
    expect(readDecision({ confirm: true })).toBeUndefined();
  });
});

describe('the built-in rules\' confirm action', () => {
  const tool = (name: string, annotations?: Record<string, unknown>) => ({ name, http: { path: '/' }, ...(annotations ? { annotations } : {}) });
  const snapshot = buildSnapshot({
    version: 1,
    backends: [backendSchema.parse({ name: 'bank', kind: 'rest', urls: ['http://x'], tools: [tool('pay', { destructiveHint: false }), tool('wipe', { destructiveHint: true }), tool('read', { readOnlyHint: true }), tool('bare')] })],
    discovered: new Map(),
    separator: '_',
    pageSize: 100,
  });
  const policy = new RulesPolicy(
    configSchema.parse({
      policy: {
        engine: 'rules',
        rules: [
          { tools: ['bank_pay'], allow: 'anyone', confirm: { message: 'Money moves.', arguments: [{ name: 'amount', above: 100 }, { name: 'currency', equals: 'BTC' }] } },
          { tools: ['bank_*'], allow: 'anyone', confirm: { destructive: true } },
          { prompts: ['*'], allow: 'anyone', confirm: true },
        ],
      },
    }).policy as never,
  );
  const caller: Caller = { principal: { issuer: null, subject: 'u' }, roles: [], scopes: [], claims: {} };
  const decide = (name: string, args: Record<string, unknown> = {}) => policy.decide({ ...policySubject(caller, null, null), ...toolPart(snapshot.tools.get(name)!, args) });

  it('asks when an argument condition holds, with the rule\'s message', async () => {
    expect(await decide('bank_pay', { amount: 500 })).toMatchObject({ allow: false, confirm: { message: 'Money moves.' } });
    expect((await decide('bank_pay', { amount: 5, currency: 'BTC' })).confirm).toBeDefined();
    expect(await decide('bank_pay', { amount: 5, currency: 'EUR' })).toEqual({ allow: true });
    expect(await decide('bank_pay', { amount: '500' })).toEqual({ allow: true });
  });

  it('asks for destructive tools as MCP defines them (destructiveHint, true when unsaid, never for read-only tools)', async () => {
    expect((await decide('bank_wipe')).confirm).toEqual({ message: null });
    expect((await decide('bank_bare')).confirm).toEqual({ message: null });
    expect(await decide('bank_read')).toEqual({ allow: true });
  });

  it('lists tools that need confirmation, and confirms nothing but tool calls', async () => {
    const visible = await policy.visible(policySubject(caller, null, null), [...snapshot.tools.values()].map((t) => toolPart(t, {})));
    expect([...visible].sort()).toEqual(['bank_bare', 'bank_pay', 'bank_read', 'bank_wipe']);
    const prompt = { name: 'p', catalogName: 'p', upstreamName: 'p', backend: 'bank', definition: { name: 'p' } };
    expect(await policy.decide({ ...policySubject(caller, null, null), ...promptPart(prompt as never, {}) })).toEqual({ allow: true });
  });

  it('refuses a rule condition without a test in the configuration', () => {
    const bad = () => configSchema.parse({ policy: { engine: 'rules', rules: [{ tools: ['*'], allow: 'anyone', confirm: { arguments: [{ name: 'amount' }] } }] } });
    expect(bad).toThrow(/needs \\?"above\\?" or \\?"equals/);
  });
});

describe('a confirmation state bound to the call', () => {
  const principal = { issuer: 'https://idp', subject: 'alice' };
  const args = { to: 'Bob', amount: 500, memo: { lines: ['a', 'b'] } };
  const round: ConfirmationRound = { principal, method: 'tools/call', name: 'transfer', arguments: definitionDigest(args), session: 's', key: 'k', expiresAt: Date.now() + 60_000 };

  it('holds for the same caller, tool and arguments, whatever their key order', () => {
    expect(checkBinding(round, principal, 'tools/call', 'transfer', { memo: { lines: ['a', 'b'] }, amount: 500, to: 'Bob' })).toBeUndefined();
  });

  it('does not hold for other arguments, another tool or another caller', () => {
    expect(checkBinding(round, principal, 'tools/call', 'transfer', { ...args, amount: 5000 })).toMatch(/other arguments/);
    expect(checkBinding(round, principal, 'tools/call', 'transfer', { ...args, memo: { lines: ['a'] } })).toMatch(/other arguments/);
    expect(checkBinding(round, principal, 'tools/call', 'transfer', { to: 'Bob', amount: 500 })).toMatch(/other arguments/);
    expect(checkBinding(round, principal, 'tools/call', 'close_account', args)).toMatch(/another request/);
    expect(checkBinding(round, { ...principal, subject: 'mallory' }, 'tools/call', 'transfer', args)).toMatch(/not a requestState/);
  });
});

describe('reading the user\'s answer', () => {
  it('goes on only on accept with the box ticked', () => {
    expect(readAnswer({ action: 'accept', content: { confirm: true } }).outcome).toBe('accepted');
    expect(readAnswer({ jsonrpc: '2.0', id: 1, result: { action: 'accept', content: { confirm: true } } }).outcome).toBe('accepted');
    expect(readAnswer({ action: 'accept', content: { confirm: 'true' } }).outcome).toBe('declined');
    expect(readAnswer({ action: 'accept' }).outcome).toBe('declined');
    expect(readAnswer({ action: 'decline' }).outcome).toBe('declined');
    expect(readAnswer({ action: 'cancel' }).outcome).toBe('cancelled');
    expect(readAnswer({ action: 'maybe' }).outcome).toBe('cancelled');
    expect(readAnswer({ jsonrpc: '2.0', id: 1, error: { code: -32001, message: 'late', data: { code: 'GW_RELAY_TIMEOUT' } } }).outcome).toBe('timeout');
    expect(readAnswer({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'boom' } }).outcome).toBe('cancelled');
  });
});
