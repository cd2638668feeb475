import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller.js';
import { backendSchema, configSchema } from '../../src/config/schema.js';
import { buildSnapshot } from '../../src/catalog/snapshot.js';
import { policySubject, toolPart } from '../../src/policy/input.js';
import { RulesPolicy } from '../../src/policy/rules.js';

const caller = (subject: string, roles: string[] = [], scopes: string[] = [], clientId?: string): Caller => ({
  principal: { issuer: 'https://idp', subject },
  roles,
  scopes,
  claims: {},
  ...(clientId ? { clientId } : {}),
});

const snapshot = buildSnapshot({
  version: 1,
  backends: [backendSchema.parse({ name: 'orders', kind: 'rest', urls: ['http://x'], tools: ['list', 'cancel', 'create'].map((name) => ({ name, http: { path: '/' } })) }), backendSchema.parse({ name: 'wiki', kind: 'rest', urls: ['http://x'], tools: [{ name: 'read', http: { path: '/' } }] })],
  discovered: new Map(),
  separator: '_',
  pageSize: 100,
});

const policy = new RulesPolicy(
  configSchema.parse({
    policy: {
      engine: 'rules',
      rules: [
        { tools: ['orders_cancel'], allow: { roles: ['admin'] } },
        { tools: ['orders_*'], allow: { roles: ['admin', 'support'], scopes: ['orders:write'], clients: ['ops-console'] } },
        { tools: ['wiki_*'], allow: 'anyone' },
      ],
    },
  }).policy as never,
);

const decide = (c: Caller, tool: string) => policy.decide({ ...policySubject(c, null, null), ...toolPart(snapshot.tools.get(tool)!, {}) });

describe('built-in rules policy', () => {
  it('lets the first matching rule decide', async () => {
    expect((await decide(caller('ann', ['support']), 'orders_list')).allow).toBe(true);
    expect(await decide(caller('ann', ['support']), 'orders_cancel')).toEqual({ allow: false, reason: 'tool "orders_cancel" needs role admin' });
    expect((await decide(caller('root', ['admin']), 'orders_cancel')).allow).toBe(true);
  });

  it('accepts any one criterion: role, scope or client', async () => {
    expect((await decide(caller('x', [], ['orders:write']), 'orders_create')).allow).toBe(true);
    expect((await decide(caller('x', [], [], 'ops-console'), 'orders_create')).allow).toBe(true);
    expect((await decide(caller('x'), 'orders_create')).allow).toBe(false);
    expect((await decide(caller('x'), 'wiki_read')).allow).toBe(true);
  });

  it('filters a listing with the same rules', async () => {
    const visible = await policy.visible(policySubject(caller('ann', ['support']), null, null), snapshot.sorted.map((t) => toolPart(t, {})));
    expect([...visible].sort()).toEqual(['orders_create', 'orders_list', 'wiki_read']);
  });

  it('denies tools no rule covers', async () => {
    const narrow = new RulesPolicy(configSchema.parse({ policy: { engine: 'rules', rules: [{ tools: ['wiki_*'], allow: 'anyone' }] } }).policy as never);
    expect(await narrow.decide({ ...policySubject(caller('x', ['admin']), null, null), ...toolPart(snapshot.tools.get('orders_list')!, {}) })).toEqual({ allow: false, reason: 'no rule covers tool "orders_list"' });
  });
});
