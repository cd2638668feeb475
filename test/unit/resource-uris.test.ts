import { describe, expect, it } from 'vitest';
import type { BackendDescriptor, Published } from '../../src/catalog/model.js';
import { buildSnapshot } from '../../src/catalog/snapshot.js';
import { exposeResultUris, exposedUri, unwrapUri } from '../../src/catalog/uris.js';
import { backendSchema } from '../../src/config/schema.js';
import { assertNoStaticCollisions } from '../../src/catalog/static-check.js';

const mcp = (name: string, prefix?: string): BackendDescriptor =>
  backendSchema.parse({ name, kind: 'mcp', urls: ['http://127.0.0.1:2/mcp'], ...(prefix === undefined ? {} : { prefix }) });
const published = (p: Partial<Published>): Published => ({ servesResources: true, tools: [], resources: [], resourceTemplates: [], prompts: [], ...p }) as Published;
const res = (uri: string) => ({ uri, name: uri });

function snapshot(backends: BackendDescriptor[], pub: Record<string, Partial<Published>>) {
  return buildSnapshot({
    version: 1,
    backends,
    discovered: new Map(),
    published: new Map(Object.entries(pub).map(([k, v]) => [k, published(v)])),
    separator: '_',
    pageSize: 2,
  });
}

describe('resource URI namespacing', () => {
  it('wraps a URI in the prefix as a valid URI and unwraps it exactly', () => {
    const uri = exposedUri('docs', 'file:///a b/README.md?x=1#top');
    expect(uri).toBe('mcpgw://docs/file:///a b/README.md?x=1#top');
    expect(unwrapUri(uri)).toEqual({ prefix: 'docs', upstream: 'file:///a b/README.md?x=1#top' });
    expect(new URL(exposedUri('my_docs.v2', 'https://example.com/x')).host).toBe('my_docs.v2');
    expect(exposedUri('', 'file:///x')).toBe('file:///x');
    expect(unwrapUri('file:///x')).toBeUndefined();
  });

  it('keeps colliding URIs of two backends apart, and routes each back to its own backend', () => {
    const s = snapshot([mcp('a'), mcp('b')], { a: { resources: [res('file:///README.md')] }, b: { resources: [res('file:///README.md')] } });
    expect([...s.resources.keys()]).toEqual(['mcpgw://a/file:///README.md', 'mcpgw://b/file:///README.md']);
    expect(s.uris.resolve('mcpgw://b/file:///README.md')).toMatchObject({ backend: 'b', upstreamUri: 'file:///README.md' });
    // Unlisted URIs under a known prefix route too (links in tool results, filled-in templates).
    expect(s.uris.resolve('mcpgw://a/file:///other.md')).toEqual({ backend: 'a', upstreamUri: 'file:///other.md' });
    expect(s.uris.resolve('mcpgw://zzz/file:///other.md')).toBeUndefined();
    expect(s.problems).toEqual([]);
  });

  it('reports URIs, templates and prompts two unprefixed backends both claim, and leaves them out', () => {
    const s = snapshot([mcp('a', ''), mcp('b', '')], {
      a: { resources: [res('file:///README.md'), res('file:///a.md')], resourceTemplates: [{ uriTemplate: 'logs://{day}', name: 'logs' }], prompts: [{ name: 'greet' }] },
      b: { resources: [res('file:///README.md')], resourceTemplates: [{ uriTemplate: 'logs://{day}', name: 'logs' }], prompts: [{ name: 'greet' }, { name: 'bye' }] },
    });
    expect([...s.resources.keys()]).toEqual(['file:///a.md']);
    expect(s.templates.size).toBe(0);
    expect([...s.prompts.keys()]).toEqual(['bye']);
    expect(s.problems).toEqual(
      expect.arrayContaining([
        'resource URI "file:///README.md" is claimed by backend "a" (resource "file:///README.md") and backend "b" (resource "file:///README.md"); give one backend a different prefix',
        'prompt name "greet" is claimed by backend "a" (prompt "greet") and backend "b" (prompt "greet"); give one backend a different prefix',
        expect.stringContaining('resource template "logs://{day}" is claimed by'),
        expect.stringContaining('URI scheme "file" is claimed by backend "a" and backend "b"'),
      ]),
    );
    // An unlisted URI of a scheme both claim cannot be routed.
    expect(s.uris.resolve('file:///elsewhere.md')).toBeUndefined();
  });

  it('routes an unprefixed backend by listed URI, template and scheme it alone uses', () => {
    const s = snapshot([mcp('a', ''), mcp('b')], {
      a: { resources: [res('notes://1')], resourceTemplates: [{ uriTemplate: 'notes://{id}', name: 'note' }] },
      b: { resourceTemplates: [{ uriTemplate: 'notes://{id}', name: 'note' }] },
    });
    expect(s.uris.resolve('notes://42')).toMatchObject({ backend: 'a', upstreamUri: 'notes://42', template: { uriTemplate: 'notes://{id}' } });
    expect(s.uris.resolve('mcpgw://b/notes://42')).toMatchObject({ backend: 'b', upstreamUri: 'notes://42', template: { uriTemplate: 'mcpgw://b/notes://{id}' } });
  });

  it('prefixes prompt names like tool names and pages every listing by its key', () => {
    const s = snapshot([mcp('a')], { a: { prompts: [{ name: 'p1' }, { name: 'p2' }, { name: 'p3' }], resources: [res('x://3'), res('x://1'), res('x://2')] } });
    const first = s.lists.prompts.page(undefined);
    expect(first.items.map((p) => p.name)).toEqual(['a_p1', 'a_p2']);
    expect(JSON.parse(s.lists.prompts.page(first.nextCursor).resultJson.toString())).toEqual({ prompts: [{ name: 'a_p3' }] });
    expect(s.prompts.get('a_p2')).toMatchObject({ upstreamName: 'p2', backend: 'a' });
    const r = JSON.parse(s.lists.resources.page(undefined).resultJson.toString());
    expect(r.resources.map((x: { uri: string }) => x.uri)).toEqual(['mcpgw://a/x://1', 'mcpgw://a/x://2']);
  });

  it('exposes the URIs a backend names in results: links, embedded resources, read contents, prompt messages', () => {
    const result = {
      content: [{ type: 'text', text: 'see' }, { type: 'resource_link', uri: 'file:///r.md', name: 'r' }, { type: 'resource', resource: { uri: 'file:///e.md', text: 'e' } }],
      contents: [{ uri: 'file:///c.md', text: 'c' }],
      messages: [{ role: 'user', content: { type: 'resource', resource: { uri: 'file:///m.md', text: 'm' } } }],
    };
    expect(exposeResultUris('docs', result)).toEqual({
      content: [{ type: 'text', text: 'see' }, { type: 'resource_link', uri: 'mcpgw://docs/file:///r.md', name: 'r' }, { type: 'resource', resource: { uri: 'mcpgw://docs/file:///e.md', text: 'e' } }],
      contents: [{ uri: 'mcpgw://docs/file:///c.md', text: 'c' }],
      messages: [{ role: 'user', content: { type: 'resource', resource: { uri: 'mcpgw://docs/file:///m.md', text: 'm' } } }],
    });
    expect(exposeResultUris('', result)).toBe(result);
  });
});

describe('resources and prompts a REST backend declares', () => {
  const rest = (name: string, prefix: string | undefined, uris: string[], prompts: string[]): BackendDescriptor =>
    backendSchema.parse({
      name,
      kind: 'rest',
      urls: ['http://127.0.0.1:1'],
      ...(prefix === undefined ? {} : { prefix }),
      resources: uris.map((uri) => ({ uri, name: uri, http: { path: '/r' } })),
      prompts: prompts.map((p) => ({ name: p, messages: [{ role: 'user', text: p }] })),
    });

  it('namespaces them like a native backend’s, without the HTTP mapping or message templates', () => {
    const s = snapshot([rest('orders', undefined, ['orders://open'], ['triage'])], {});
    expect([...s.resources.values()].map((r) => r.definition)).toEqual([{ uri: 'mcpgw://orders/orders://open', name: 'orders://open' }]);
    expect(s.prompts.get('orders_triage')!.definition).toEqual({ name: 'orders_triage', arguments: [] });
    expect(s.uris.resolve('mcpgw://orders/orders://open')).toMatchObject({ backend: 'orders', upstreamUri: 'orders://open' });
    expect(s.rewritesUris.has('orders')).toBe(true);
  });

  it('stops a configuration whose declared URIs collide, but not two unprefixed REST backends sharing a scheme', () => {
    expect(() => assertNoStaticCollisions([rest('a', '', ['x://1'], []), rest('b', '', ['x://1'], [])], '_')).toThrow(/resource URI "x:\/\/1" is claimed by/);
    expect(() => assertNoStaticCollisions([rest('a', '', ['x://1'], []), rest('b', '', ['x://2'], [])], '_')).not.toThrow();
  });
});
