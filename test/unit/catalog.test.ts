import { describe, expect, it } from 'vitest';
import { buildSnapshot, InvalidCursorError } from '../../src/catalog/snapshot.js';
import type { BackendDescriptor, ToolDefinition } from '../../src/catalog/model.js';
import { backendSchema } from '../../src/config/schema.js';

const restBackend = (name: string, tools: string[], prefix?: string): BackendDescriptor =>
  backendSchema.parse({
    name,
    kind: 'rest',
    urls: ['http://127.0.0.1:1'],
    ...(prefix === undefined ? {} : { prefix }),
    tools: tools.map((t) => ({ name: t, http: { path: '/' } })),
  });
const mcpBackend = (name: string, prefix?: string): BackendDescriptor =>
  backendSchema.parse({ name, kind: 'mcp', urls: ['http://127.0.0.1:2/mcp'], ...(prefix === undefined ? {} : { prefix }) });
const tool = (name: string): ToolDefinition => ({ name, inputSchema: { type: 'object' } });

describe('catalog snapshot', () => {
  it('prefixes names per backend, with a custom or empty prefix', () => {
    const s = buildSnapshot({
      version: 1,
      backends: [restBackend('billing', ['charge']), restBackend('crm', ['find'], 'sales'), mcpBackend('docs', '')],
      discovered: new Map([['docs', [tool('search')]]]),
      separator: '_',
      pageSize: 100,
    });
    expect([...s.tools.keys()].sort()).toEqual(['billing_charge', 'sales_find', 'search']);
    expect(s.tools.get('search')!.upstreamName).toBe('search');
    expect(s.tools.get('sales_find')!.backend).toBe('crm');
  });

  it('leaves colliding tools out and reports them', () => {
    const s = buildSnapshot({
      version: 1,
      backends: [mcpBackend('one', ''), mcpBackend('two', ''), restBackend('three', ['unique'])],
      discovered: new Map([['one', [tool('search'), tool('a')]], ['two', [tool('search'), tool('b')]]]),
      separator: '_',
      pageSize: 100,
    });
    expect([...s.tools.keys()].sort()).toEqual(['a', 'b', 'three_unique']);
    expect(s.problems).toEqual(['tool name "search" is claimed by backend "one" (tool "search") and backend "two" (tool "search"); give one backend a different prefix']);
  });

  it('pages by name with cursors that survive catalog changes', () => {
    const names = Array.from({ length: 7 }, (_, i) => `t${i}`);
    const build = (tools: string[]) => buildSnapshot({ version: 1, backends: [mcpBackend('m', '')], discovered: new Map([['m', tools.map(tool)]]), separator: '_', pageSize: 3 });
    const s = build(names);
    const p1 = s.page(undefined);
    expect(p1.items.map((t) => t.name)).toEqual(['t0', 't1', 't2']);
    // A tool added before the cursor position does not shift the next page.
    const s2 = build(['t00', ...names]);
    expect(s2.page(p1.nextCursor).items.map((t) => t.name)).toEqual(['t3', 't4', 't5']);
    const last = s.page(s.page(p1.nextCursor).nextCursor);
    expect(last.items.map((t) => t.name)).toEqual(['t6']);
    expect(last.nextCursor).toBeUndefined();
    expect(JSON.parse(last.resultJson.toString())).toEqual({ tools: [tool('t6')] });
    expect(() => s.page('not a cursor!')).toThrow(InvalidCursorError);
  });

  it('validates arguments against the input schema with messages a model can act on', () => {
    const s = buildSnapshot({
      version: 1,
      backends: [mcpBackend('m', '')],
      discovered: new Map([['m', [{ name: 'send', inputSchema: { type: 'object', properties: { to: { type: 'string', format: 'email' }, n: { type: 'integer' } }, required: ['to'], additionalProperties: false } }]]]),
      separator: '_',
      pageSize: 3,
    });
    const check = s.argumentCheck(s.tools.get('send')!)!;
    expect(check({ to: 'a@example.com', n: 2 })).toBeNull();
    expect(check({ to: 'not-an-email' })).toContain('arguments/to must match format "email"');
    expect(check({ n: 1.5 })).toMatch(/must have required property 'to'.*arguments\/n must be integer/);
    expect(check({ to: 'a@example.com', extra: 1 })).toContain('must NOT have additional properties');
  });
});

describe('x-mcp-header declarations per snapshot', () => {
  const withHeader = (header: string): ToolDefinition => ({ name: 'get', inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': header } } } });
  const snapshot = (def: ToolDefinition, version: number) => buildSnapshot({ version, backends: [mcpBackend('docs', '')], discovered: new Map([['docs', [def]]]), separator: '_', pageSize: 100 });

  it('reads each tool\'s declarations from its schema, and a new snapshot from its new schema', () => {
    const before = snapshot(withHeader('Region'), 1);
    expect(before.paramHeaders(before.tools.get('get')!)).toEqual([{ header: 'Region', path: ['region'] }]);
    expect(before.paramHeaders(before.tools.get('get')!)).toEqual([{ header: 'Region', path: ['region'] }]);
    const after = snapshot(withHeader('Zone'), 2);
    expect(after.paramHeaders(after.tools.get('get')!)).toEqual([{ header: 'Zone', path: ['region'] }]);
    const none = snapshot(tool('get'), 3);
    expect(none.paramHeaders(none.tools.get('get')!)).toEqual([]);
  });
});
