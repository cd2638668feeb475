import { describe, expect, it } from 'vitest';
import type { Caller } from '../../src/auth/caller.js';
import { backendSchema, configSchema } from '../../src/config/schema.js';
import { buildSnapshot } from '../../src/catalog/snapshot.js';
import { completionPart, policySubject, promptPart, resourcePart, toolPart } from '../../src/policy/input.js';
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

describe('built-in rules over resources, prompts and completion', () => {
  const prompt = { name: 'docs_summarize', upstreamName: 'summarize', backend: 'docs', definition: { name: 'docs_summarize' } };
  const resources = new RulesPolicy(
    configSchema.parse({
      policy: {
        engine: 'rules',
        rules: [
          { resources: ['mcpgw://docs/file:///internal/*'], allow: { roles: ['admin'] } },
          { tools: ['*'], resources: ['mcpgw://docs/*'], prompts: ['docs_*'], allow: 'anyone' },
        ],
      },
    }).policy as never,
  );
  const read = (c: Caller, uri: string) =>
    resources.decide({ ...policySubject(c, null, null), ...resourcePart('resources/read', uri, { backend: 'docs', upstreamUri: uri.replace('mcpgw://docs/', '') }) });

  it('matches a resource URI against resource globs only, first rule first', async () => {
    expect(await read(caller('x'), 'mcpgw://docs/file:///internal/pay.md')).toEqual({ allow: false, reason: 'resource "mcpgw://docs/file:///internal/pay.md" needs role admin' });
    expect((await read(caller('x', ['admin']), 'mcpgw://docs/file:///internal/pay.md')).allow).toBe(true);
    expect((await read(caller('x'), 'mcpgw://docs/file:///README.md')).allow).toBe(true);
    expect(await read(caller('x'), 'mcpgw://wiki/x')).toEqual({ allow: false, reason: 'no rule covers resource "mcpgw://wiki/x"' });
  });

  it('decides a completion as the prompt or template it completes', async () => {
    const forPrompt = completionPart(promptPart(prompt, {}), { name: 'topic', value: 'in' });
    expect(forPrompt.request).toMatchObject({ method: 'completion/complete', kind: 'completion', name: 'docs_summarize', argument: { name: 'topic', value: 'in' } });
    expect((await resources.decide({ ...policySubject(caller('x'), null, null), ...forPrompt })).allow).toBe(true);
    const target = { backend: 'docs', upstreamUri: 'file:///internal/{page}' };
    const forTemplate = completionPart(resourcePart('completion/complete', 'mcpgw://docs/file:///internal/{page}', target), { name: 'page', value: '' });
    expect((await resources.decide({ ...policySubject(caller('x'), null, null), ...forTemplate })).allow).toBe(false);
  });

  it('denies resources and prompts to a configuration written for tools alone', async () => {
    const item = promptPart(prompt, {});
    expect(await policy.decide({ ...policySubject(caller('x', ['admin']), null, null), ...item })).toEqual({ allow: false, reason: 'no rule covers prompt "docs_summarize"' });
    const visible = await policy.visible(policySubject(caller('x', ['admin']), null, null), [item, toolPart(snapshot.tools.get('wiki_read')!, {})]);
    expect([...visible]).toEqual(['wiki_read']);
  });

  it('refuses a rule that names nothing', () => {
    expect(() => configSchema.parse({ policy: { engine: 'rules', rules: [{ allow: 'anyone' }] } })).toThrow(/needs at least one of tools, resources, prompts/);
  });
});
