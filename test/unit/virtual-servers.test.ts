import { describe, expect, it } from 'vitest';
import { pino } from 'pino';
import type { BackendDescriptor, Published, ToolDefinition } from '../../src/catalog/model.js';
import { buildSnapshot } from '../../src/catalog/snapshot.js';
import { buildView } from '../../src/catalog/virtual-view.js';
import { assertNoStaticRenameCollisions, VirtualServers } from '../../src/catalog/virtual-servers.js';
import { KvVirtualServers, parseKvVirtualServer } from '../../src/catalog/consul/virtual-servers.js';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { backendSchema } from '../../src/config/schema.js';
import { virtualServerSchema, type VirtualServerConfig } from '../../src/config/virtual-server-schema.js';
import { endpointOf } from '../../src/endpoint.js';
import { promptPart, toolPart } from '../../src/policy/input.js';
import { RulesPolicy } from '../../src/policy/rules.js';

const quiet = pino({ level: 'silent' });
const mcp = (name: string): BackendDescriptor => backendSchema.parse({ name, kind: 'mcp', urls: ['http://127.0.0.1:2/mcp'] });
const tool = (name: string, extra: Partial<ToolDefinition> = {}): ToolDefinition => ({ name, description: `${name} (backend)`, inputSchema: { type: 'object' }, ...extra });
const published = (p: Partial<Published>): Published => ({ servesResources: true, tools: [], resources: [], resourceTemplates: [], prompts: [], ...p }) as Published;

/** Two native backends: crm (read and write tools, a prompt, resources) and git (tagged tools). */
function catalog() {
  const tools = {
    crm: [tool('lookup', { annotations: { readOnlyHint: true } }), tool('delete', { annotations: { destructiveHint: true } }), tool('search', { annotations: { readOnlyHint: true } })],
    git: [tool('log', { _meta: { tags: ['support'] } }), tool('push')],
  };
  return buildSnapshot({
    version: 7,
    backends: [mcp('crm'), mcp('git')],
    discovered: new Map(Object.entries(tools)),
    published: new Map([
      ['crm', published({ tools: tools.crm, prompts: [{ name: 'summary' }], resources: [{ uri: 'file:///a.md', name: 'a' }, { uri: 'file:///b.md', name: 'b' }], resourceTemplates: [{ uriTemplate: 'file:///t/{id}', name: 't' }] })],
      ['git', published({ tools: tools.git, resources: [{ uri: 'git://readme', name: 'readme' }] })],
    ]),
    separator: '_',
    pageSize: 100,
  });
}

const server = (v: Record<string, unknown>): VirtualServerConfig => virtualServerSchema.parse({ name: 'team', ...v });

describe('virtual server views', () => {
  it('select by backend, name glob, tag and annotation; any rule is enough, every key of a rule must hold', () => {
    const base = catalog();
    const byBackend = buildView(base, server({ select: { backends: ['git'], kinds: ['tools'] } }));
    expect([...byBackend.tools.keys()]).toEqual(['git_log', 'git_push']);
    const readOnly = buildView(base, server({ select: { annotations: { readOnlyHint: true } } }));
    expect([...readOnly.tools.keys()]).toEqual(['crm_lookup', 'crm_search']);
    const union = buildView(base, server({ select: [{ names: ['crm_l*'] }, { tags: ['support'] }] }));
    expect([...union.tools.keys()]).toEqual(['crm_lookup', 'git_log']);
    const both = buildView(base, server({ select: { names: ['crm_*'], annotations: { readOnlyHint: true } } }));
    expect([...both.tools.keys()]).toEqual(['crm_lookup', 'crm_search']);
    // The listing pages show only the selection.
    expect(JSON.parse(both.lists.tools.page(undefined).resultJson.toString()).tools.map((t: { name: string }) => t.name)).toEqual(['crm_lookup', 'crm_search']);
  });

  it('selects prompts, resources and templates too; tags and annotations select only what has them', () => {
    const base = catalog();
    const all = buildView(base, server({ select: { backends: ['crm'] } }));
    expect([...all.prompts.keys()]).toEqual(['crm_summary']);
    expect([...all.resources.keys()].sort()).toEqual(['mcpgw://crm/file:///a.md', 'mcpgw://crm/file:///b.md']);
    expect([...all.templates.keys()]).toEqual(['mcpgw://crm/file:///t/{id}']);
    const tagged = buildView(base, server({ select: { tags: ['support'] } }));
    expect(tagged.prompts.size + tagged.resources.size + tagged.templates.size).toBe(0);
  });

  it('routes URIs only inside the view: a listed resource it did not select is unknown there', () => {
    const base = catalog();
    const some = buildView(base, server({ select: [{ kinds: ['resources'], names: ['mcpgw://crm/file:///a.md'] }, { kinds: ['resourceTemplates'], backends: ['crm'] }] }));
    expect(some.uris.resolve('mcpgw://crm/file:///a.md')).toMatchObject({ backend: 'crm', upstreamUri: 'file:///a.md' });
    expect(some.uris.resolve('mcpgw://crm/file:///b.md')).toBeUndefined();
    expect(some.uris.resolve('mcpgw://crm/file:///t/42')).toMatchObject({ backend: 'crm', upstreamUri: 'file:///t/42' });
    // Unlisted URIs of a backend: only a rule that takes the whole backend takes them.
    expect(some.uris.resolve('mcpgw://crm/file:///elsewhere')).toBeUndefined();
    const whole = buildView(base, server({ select: { backends: ['crm'] } }));
    expect(whole.uris.resolve('mcpgw://crm/file:///elsewhere')).toEqual({ backend: 'crm', upstreamUri: 'file:///elsewhere' });
    expect(whole.uris.resolve('mcpgw://git/git://readme')).toBeUndefined();
  });

  it('renames a tool: called by its new name, it reaches the backend under its own; descriptions are overridden', () => {
    const view = buildView(catalog(), server({ select: { backends: ['crm'] }, rename: { crm_lookup: 'find_customer', crm_summary: 'summarize' }, descriptions: { crm_lookup: 'Find a customer by id.' } }));
    expect(view.tools.has('crm_lookup')).toBe(false);
    const t = view.tools.get('find_customer')!;
    expect(t).toMatchObject({ name: 'find_customer', catalogName: 'crm_lookup', upstreamName: 'lookup', backend: 'crm' });
    expect(t.definition).toMatchObject({ name: 'find_customer', description: 'Find a customer by id.', annotations: { readOnlyHint: true } });
    expect(view.prompts.get('summarize')).toMatchObject({ upstreamName: 'summary', catalogName: 'crm_summary', definition: { name: 'summarize' } });
    // Policies see the catalog name, so a rename does not step around a rule written for it (request.tool as before virtual servers).
    expect(toolPart(t, {})).toMatchObject({ request: { name: 'crm_lookup', tool: 'crm_lookup', calledAs: 'find_customer' }, tool: { name: 'crm_lookup', upstreamName: 'lookup' } });
    expect(promptPart(view.prompts.get('summarize')!, {})).toMatchObject({ request: { name: 'crm_summary', prompt: 'crm_summary', calledAs: 'summarize' }, prompt: { name: 'crm_summary' } });
  });

  it('a rename onto a name another selected tool keeps leaves both out and names both', () => {
    const view = buildView(catalog(), server({ select: { backends: ['crm'] }, rename: { crm_lookup: 'crm_search' } }));
    expect(view.tools.has('crm_search')).toBe(false);
    expect([...view.tools.keys()]).toEqual(['crm_delete']);
    expect(view.problems).toEqual(['virtual server "team": tool name "crm_search" is claimed by tool "crm_lookup" (renamed) and tool "crm_search"; both are left out; rename one of them']);
  });

  it('the rules policy decides a renamed tool by its catalog name', async () => {
    const view = buildView(catalog(), server({ select: { backends: ['crm'] }, rename: { crm_delete: 'tidy' } }));
    const rules = new RulesPolicy({ engine: 'rules', hideUnlisted: true, rules: [{ tools: ['crm_delete'], resources: [], prompts: [], relays: [], allow: 'nobody' }, { tools: ['*'], resources: [], prompts: [], relays: [], allow: 'anyone' }] });
    const subject = { principal: { issuer: null, subject: 's', scopes: [], roles: [], claims: {} }, client: { id: null, session: null, clientInfo: null, protocolVersion: null, era: null }, context: { time: '', source: { ip: null }, audit: { session: null, request: null } }, virtualServer: 'team' };
    expect(await rules.decide({ ...subject, ...toolPart(view.tools.get('tidy')!, {}) })).toMatchObject({ allow: false });
    expect(await rules.visible(subject, [...view.tools.values()].map((t) => toolPart(t, {})))).toEqual(new Set(['crm_lookup', 'crm_search']));
  });
});

describe('virtual server configuration', () => {
  const configWith = (virtualServers: unknown) => () => parseConfig({ virtualServers });

  it('accepts a server and defaults the optional keys', () => {
    const cfg = parseConfig({ virtualServers: [{ name: 'support', instructions: 'Be kind.', select: { backends: ['crm'] }, scopes: ['support:use'] }] });
    expect(cfg.virtualServers[0]).toEqual({ name: 'support', instructions: 'Be kind.', select: [{ backends: ['crm'] }], rename: {}, descriptions: {}, scopes: ['support:use'] });
  });

  it('refuses names that are not one safe path segment, naming the key', () => {
    for (const name of ['a/b', '..', 'Support', '', '%2e', 'x'.repeat(64)]) {
      expect(configWith([{ name, select: {} }]), name).toThrow(/virtualServers\[0\]\.name: must be 1-63 characters/);
    }
  });

  it('refuses the names of the operator endpoints, which a server at the root would shadow', () => {
    for (const name of ['livez', 'healthz', 'readyz']) {
      expect(configWith([{ name, select: {} }]), name).toThrow('virtualServers[0].name: is reserved (the operator endpoints /livez, /healthz, /readyz)');
    }
    // The metrics path, where the MCP endpoint is the root.
    expect(() => parseConfig({ server: { path: '/' }, virtualServers: [{ name: 'metrics', select: {} }] })).toThrow('virtualServers[0].name: is metrics.path (/metrics) with server.path "/"');
    expect(() => parseConfig({ virtualServers: [{ name: 'metrics', select: {} }] })).not.toThrow();
    // Nor may the MCP endpoint itself be one of them.
    expect(() => parseConfig({ server: { path: '/livez' } })).toThrow('server.path: must differ from /healthz, /livez and /readyz (the operator endpoints)');
  });

  it('refuses two renames onto one name, naming both', () => {
    expect(configWith([{ name: 'a', select: {}, rename: { crm_lookup: 'find', git_log: 'find' } }])).toThrow('virtualServers[0].rename.git_log: renames to "find", as "crm_lookup" does; give one another name');
  });

  it('refuses unknown keys, bad selections and duplicate names', () => {
    expect(configWith([{ name: 'a', select: {}, tools: [] }])).toThrow(/virtualServers\[0\]: Unrecognized key: "tools"/);
    expect(configWith([{ name: 'a', select: { kinds: ['widgets'] } }])).toThrow(/virtualServers\[0\]\.select/);
    expect(configWith([{ name: 'a', select: {} }, { name: 'a', select: {} }])).toThrow('virtualServers[1].name: "a" is configured twice');
    expect(configWith([{ name: 'a' }])).toThrow(/virtualServers\[0\]\.select/);
  });

  it('refuses at start a rename that collides with a tool the file itself defines', () => {
    const backends = [backendSchema.parse({ name: 'crm', kind: 'rest', urls: ['http://127.0.0.1:2'], tools: [{ name: 'a', http: { path: '/a' } }, { name: 'b', http: { path: '/b' } }] })];
    const vs = [server({ select: {}, rename: { crm_a: 'crm_b' } })];
    expect(() => assertNoStaticRenameCollisions(vs, backends, '_')).toThrow(ConfigError);
    expect(() => assertNoStaticRenameCollisions(vs, backends, '_')).toThrow('tool name "crm_b" is claimed by tool "crm_a" (renamed) and tool "crm_b"');
    expect(() => assertNoStaticRenameCollisions([server({ select: {}, rename: { crm_a: 'first' } })], backends, '_')).not.toThrow();
  });
});

describe('endpoints', () => {
  it('reads the endpoint from the path: /mcp, /mcp/<name>, nothing else', () => {
    expect(endpointOf('/mcp', '/mcp')).toBeNull();
    expect(endpointOf('/mcp?x=1', '/mcp')).toBeNull();
    expect(endpointOf('/mcp/support', '/mcp')).toBe('support');
    expect(endpointOf('/mcp/support/x', '/mcp')).toBeUndefined();
    expect(endpointOf('/mcp/', '/mcp')).toBeUndefined();
    expect(endpointOf('/mcp/..', '/mcp')).toBeUndefined();
    expect(endpointOf('/mcpx', '/mcp')).toBeUndefined();
    expect(endpointOf('/other', '/mcp')).toBeUndefined();
  });

  it('the default endpoint is the whole catalog unless a server named default configures it', () => {
    const base = catalog();
    const plain = new VirtualServers([server({ select: { backends: ['git'] } })], '/mcp', quiet);
    expect(plain.find(null)!.view(base)).toBe(base);
    expect(plain.forUrl('/mcp/team')!.view(base).tools.size).toBe(2);
    expect(plain.forUrl('/mcp/nobody')).toBeUndefined();
    const configured = new VirtualServers([server({ name: 'default', instructions: 'hi', select: { names: ['crm_lookup'] } })], '/mcp', quiet);
    const d = configured.forUrl('/mcp')!;
    expect(d).toMatchObject({ name: null, instructions: 'hi' });
    expect([...d.view(base).tools.keys()]).toEqual(['crm_lookup']);
    // The view is built once per catalog snapshot.
    expect(d.view(base)).toBe(d.view(base));
  });

  it('takes servers from Consul; the file wins a name both define', () => {
    const servers = new VirtualServers([server({ name: 'team', select: { backends: ['git'] } })], '/mcp', quiet);
    const kv = new KvVirtualServers('mcp/virtual-servers/', quiet);
    servers.setFromConsul(kv.take(new Map([['ops', '{"select":{"backends":["crm"]},"scopes":["ops"]}'], ['team', '{"select":{}}']])));
    expect(servers.names()).toEqual(['ops', 'team']);
    expect(servers.find('ops')!.scopes).toEqual(['ops']);
    expect(servers.find('team')!.view(catalog()).tools.size).toBe(2);
  });
});

describe('virtual servers in Consul KV', () => {
  it('names the key and the bad field', () => {
    expect(parseKvVirtualServer('mcp/virtual-servers/x', 'x', '{nope')).toMatchObject({ problem: expect.stringMatching(/^mcp\/virtual-servers\/x: not valid JSON/) });
    expect(parseKvVirtualServer('k', 'x', '{"name":"y","select":{}}')).toEqual({ problem: 'k: "name" is "y" but the key names "x"' });
    expect(parseKvVirtualServer('k', 'x', '{"select":{},"scopes":"a"}')).toMatchObject({ problem: expect.stringContaining('scopes:') });
    expect(parseKvVirtualServer('k', 'Bad/Name', '{"select":{}}')).toMatchObject({ problem: expect.stringContaining('name: must be') });
  });

  it('keeps the last good version of a server whose value turns bad; a new bad one is not served', () => {
    const kv = new KvVirtualServers('p/', quiet);
    expect([...kv.take(new Map([['a', '{"select":{"backends":["crm"]}}']])).keys()]).toEqual(['a']);
    const after = kv.take(new Map([['a', '{"select":5}'], ['b', 'nope']]));
    expect([...after.keys()]).toEqual(['a']);
    expect(after.get('a')!.select).toEqual([{ backends: ['crm'] }]);
    expect(kv.take(new Map()).size).toBe(0);
  });
});
