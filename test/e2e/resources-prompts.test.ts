/**
 * Resources, resource templates, prompts and completion of native MCP backends through the
 * gateway, with the official SDK client in front and real SDK servers behind. The two backends
 * publish the same URIs and prompt names: the gateway keeps them apart (docs/configuration.md).
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { PromptListChangedNotificationSchema, ResourceUpdatedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { connectClient } from '../support/client.js';
import { jsonOf, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startLibraryServer, type LibraryServer } from '../support/library-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { loadConfigFile } from '../../src/config/load.js';
import { runStandalone, type RunningGateway } from '../../src/standalone/run.js';
import { waitFor } from '../support/wait.js';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';

let alpha: LibraryServer;
let beta: LibraryServer;
/** A backend without the resources capability whose tool links to a web page. */
let web: McpHttpServer;
let gw: TestGateway;
/** The same backends behind the built-in rules: beta's resources are off limits. */
let guarded: TestGateway;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  [alpha, beta] = await Promise.all([startLibraryServer('alpha'), startLibraryServer('beta')]);
  web = await serveMcp(() => {
    const mcp = new McpServer({ name: 'web', version: '1.0.0' });
    mcp.registerTool('cite', { description: 'Links to the source.' }, async () => ({ content: [{ type: 'resource_link', uri: 'https://example.com/paper', name: 'paper' }] }));
    return mcp;
  });
  dir = await mkdtemp(join(tmpdir(), 'gw-resources-'));
  auditFile = join(dir, 'audit.jsonl');
  const backends = [
    { name: 'alpha', kind: 'mcp', urls: [alpha.url] },
    { name: 'beta', kind: 'mcp', urls: [beta.url] },
  ];
  // One entry per page, so every listing is paged through its cursors.
  gw = await startGateway({ catalog: { pageSize: 1 }, backends: [...backends, { name: 'web', kind: 'mcp', urls: [web.url] }] });
  guarded = await startGateway({
    policy: {
      engine: 'rules',
      rules: [
        { resources: ['mcpgw://beta/*'], allow: 'nobody' },
        { tools: ['*'], resources: ['*'], prompts: ['*'], allow: 'anyone' },
      ],
    },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
    backends,
  });
  for (const g of [gw, guarded]) await waitFor(() => g.core.catalog.current().prompts.size === 2 && g.core.catalog.current().templates.size === 2, 'both backends discovered', 10_000);
});

afterAll(async () => {
  await Promise.all([gw?.stop(), guarded?.stop()]);
  await Promise.all([alpha?.close(), beta?.close(), web?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Every page of a listing, through its cursors. */
async function all<T>(list: (cursor?: string) => Promise<{ nextCursor?: string } & Record<string, unknown>>, key: string): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const page = await list(cursor);
    out.push(...(page[key] as T[]));
    cursor = page.nextCursor;
  } while (cursor);
  return out;
}

const textOf = (r: { contents: ReadonlyArray<object> }): unknown => (r.contents[0] as { text?: unknown } | undefined)?.text;

describe('resources through the gateway', () => {
  let client: Client;
  beforeAll(async () => ({ client } = await connectClient(gw.url)));
  afterAll(() => client.close());

  it('announces what it serves: resources with subscribe, prompts, completions, tools, logging', () => {
    const caps = client.getServerCapabilities();
    expect(caps).toMatchObject({ resources: { subscribe: true, listChanged: true }, prompts: { listChanged: true }, completions: {}, tools: { listChanged: true }, logging: {} });
  });

  it('lists both backends’ README under their own namespaced URI, page by page, and reads each from its backend', async () => {
    const resources = await all<{ uri: string; title?: string }>((cursor) => client.listResources(cursor ? { cursor } : {}), 'resources');
    expect(resources.map((r) => [r.uri, r.title])).toEqual([
      ['mcpgw://alpha/file:///README.md', 'README of alpha'],
      ['mcpgw://beta/file:///README.md', 'README of beta'],
    ]);
    const read = await client.readResource({ uri: 'mcpgw://beta/file:///README.md' });
    expect(read.contents).toEqual([{ uri: 'mcpgw://beta/file:///README.md', mimeType: 'text/markdown', text: '# beta' }]);
    expect(textOf(await client.readResource({ uri: 'mcpgw://alpha/file:///README.md' }))).toBe('# alpha');
    expect(beta.reads.get('file:///README.md')).toBe(1);
    const health = await jsonOf(await fetch(new URL('/healthz', gw.url)));
    expect(health.catalog).toMatchObject({ resources: 2, resourceTemplates: 2, prompts: 2, problems: [] });
  });

  it('lists templates, and reads a filled-in template URI from the template’s backend', async () => {
    const templates = await all<{ uriTemplate: string }>((cursor) => client.listResourceTemplates(cursor ? { cursor } : {}), 'resourceTemplates');
    expect(templates.map((t) => t.uriTemplate)).toEqual(['mcpgw://alpha/file:///docs/{topic}', 'mcpgw://beta/file:///docs/{topic}']);
    const filled = templates[1]!.uriTemplate.replace('{topic}', 'intro');
    const read = await client.readResource({ uri: filled });
    expect(read.contents).toEqual([{ uri: 'mcpgw://beta/file:///docs/intro', mimeType: 'text/plain', text: 'beta on intro' }]);
  });

  it('hands out links and embedded resources of tool results under URIs that read back through the gateway', async () => {
    const result = await client.callTool({ name: 'alpha_find_doc', arguments: { topic: 'upgrade' } });
    const [link, embedded] = result.content as Array<{ type: string; uri?: string; resource?: { uri: string } }>;
    expect(link).toMatchObject({ type: 'resource_link', uri: 'mcpgw://alpha/file:///docs/upgrade' });
    expect(embedded!.resource!.uri).toBe('mcpgw://alpha/file:///README.md');
    expect(textOf(await client.readResource({ uri: link!.uri! }))).toBe('alpha on upgrade');
  });

  it('leaves links of a backend that serves no resources as they are: the client can fetch them itself', async () => {
    const result = await client.callTool({ name: 'web_cite', arguments: {} });
    expect(result.content).toEqual([{ type: 'resource_link', uri: 'https://example.com/paper', name: 'paper' }]);
  });

  it('routes subscribe and unsubscribe to the backend that owns the URI, in its own terms', async () => {
    await client.subscribeResource({ uri: 'mcpgw://beta/file:///README.md' });
    await client.unsubscribeResource({ uri: 'mcpgw://beta/file:///README.md' });
    expect(beta.subscriptions).toEqual(['+file:///README.md', '-file:///README.md']);
    expect(alpha.subscriptions).toEqual([]);
  });

  it('answers a URI no backend serves with -32002, and a request without a URI with -32602 naming it', async () => {
    await expect(client.readResource({ uri: 'mcpgw://nobody/file:///README.md' })).rejects.toMatchObject({ code: -32002, message: expect.stringContaining('Resource not found') });
    const { sessionId } = await rawInitialize(gw.url);
    const body = await jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 'r1', method: 'resources/read', params: {} }));
    expect(body).toMatchObject({ id: 'r1', error: { code: -32602, message: expect.stringContaining('"uri" must be a non-empty string') } });
  });
});

describe('prompts and completion through the gateway', () => {
  let client: Client;
  beforeAll(async () => ({ client } = await connectClient(gw.url)));
  afterAll(() => client.close());

  it('lists both backends’ prompt under its prefix, and gets each from its backend with URIs namespaced', async () => {
    const prompts = await all<{ name: string; arguments?: unknown[] }>((cursor) => client.listPrompts(cursor ? { cursor } : {}), 'prompts');
    expect(prompts.map((p) => p.name)).toEqual(['alpha_summarize', 'beta_summarize']);
    expect(prompts[0]!.arguments).toEqual([expect.objectContaining({ name: 'topic', required: true })]);
    const got = await client.getPrompt({ name: 'beta_summarize', arguments: { topic: 'install' } });
    expect(got.messages[0]!.content).toEqual({ type: 'text', text: 'Summarize install (from beta)' });
    expect(got.messages[1]!.content).toMatchObject({ type: 'resource', resource: { uri: 'mcpgw://beta/file:///docs/install' } });
    await expect(client.getPrompt({ name: 'gamma_summarize' })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('Unknown prompt') });
  });

  it('completes a prompt argument and a template variable at the backend that owns them', async () => {
    const forPrompt = await client.complete({ ref: { type: 'ref/prompt', name: 'alpha_summarize' }, argument: { name: 'topic', value: 'in' } });
    expect(forPrompt.completion.values).toEqual(['install', 'intro']);
    const forTemplate = await client.complete({ ref: { type: 'ref/resource', uri: 'mcpgw://beta/file:///docs/{topic}' }, argument: { name: 'topic', value: 'up' } });
    expect(forTemplate.completion.values).toEqual(['upgrade']);
    await expect(client.complete({ ref: { type: 'ref/prompt', name: 'nope' }, argument: { name: 'topic', value: '' } })).rejects.toMatchObject({ code: -32602 });
  });
});

describe('policy over resources (built-in rules)', () => {
  let client: Client;
  beforeAll(async () => ({ client } = await connectClient(guarded.url)));
  afterAll(() => client.close());

  it('neither lists nor reads a denied resource, nor its template, and keeps the request id', async () => {
    const { resources } = await client.listResources();
    expect(resources.map((r) => r.uri)).toEqual(['mcpgw://alpha/file:///README.md']);
    const { resourceTemplates } = await client.listResourceTemplates();
    expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(['mcpgw://alpha/file:///docs/{topic}']);
    await expect(client.readResource({ uri: 'mcpgw://beta/file:///README.md' })).rejects.toMatchObject({ code: -32003 });
    await expect(client.readResource({ uri: 'mcpgw://beta/file:///docs/intro' })).rejects.toMatchObject({ code: -32003 });
    // Another spelling of the scheme is the same URI: denied alike, never routed around the policy.
    await expect(client.readResource({ uri: 'MCPGW://beta/file:///docs/intro' })).rejects.toMatchObject({ code: -32003 });
    await expect(client.complete({ ref: { type: 'ref/resource', uri: 'mcpgw://beta/file:///docs/{topic}' }, argument: { name: 'topic', value: '' } })).rejects.toMatchObject({ code: -32003 });
    expect(beta.reads.get('file:///docs/intro')).toBe(1); // only the earlier read through the open gateway
    const { sessionId } = await rawInitialize(guarded.url);
    const denied = await jsonOf(await rawPost(guarded.url, sessionId, { jsonrpc: '2.0', id: 'keep-me', method: 'resources/read', params: { uri: 'mcpgw://beta/file:///README.md' } }));
    expect(denied).toMatchObject({ id: 'keep-me', error: { code: -32003, data: { code: 'GW_POLICY_DENIED', reason: 'resource "mcpgw://beta/file:///README.md" is disabled' } } });
    expect(textOf(await client.readResource({ uri: 'mcpgw://alpha/file:///README.md' }))).toBe('# alpha');
  });

  it('refuses a subscription to a denied resource, but never an unsubscription', async () => {
    const before = beta.subscriptions.length;
    await expect(client.subscribeResource({ uri: 'mcpgw://beta/file:///README.md' })).rejects.toMatchObject({ code: -32003 });
    await client.unsubscribeResource({ uri: 'mcpgw://beta/file:///README.md' });
    expect(beta.subscriptions.slice(before)).toEqual(['-file:///README.md']);
  });

  it('audits reads, prompts and completions like tool calls, and their denials', async () => {
    await client.getPrompt({ name: 'alpha_summarize', arguments: { topic: 'intro' } });
    const events = async (): Promise<any[]> => (await readFile(auditFile, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    let found: { read: any; prompt: any; denial: any } | undefined;
    await waitFor(async () => {
      const all = await events();
      const read = all.find((e) => e.event === 'mcp.request' && e.method === 'resources/read' && e.target === 'mcpgw://alpha/file:///README.md');
      const prompt = all.find((e) => e.event === 'mcp.request' && e.method === 'prompts/get');
      const denial = all.find((e) => e.event === 'mcp.denial' && e.kind === 'resource');
      found = read && prompt && denial ? { read, prompt, denial } : undefined;
      return found !== undefined;
    }, 'audit events for a read, a prompt and a denied read');
    expect(found!.read).toMatchObject({ decision: 'allow', kind: 'resource', backend: 'alpha', outcome: 'ok', instance: alpha.url });
    expect(found!.prompt).toMatchObject({ kind: 'prompt', target: 'alpha_summarize', arguments: { topic: 'intro' }, outcome: 'ok' });
    expect(found!.denial).toMatchObject({ code: 'GW_POLICY_DENIED', method: 'resources/read', target: 'mcpgw://beta/file:///README.md', backend: 'beta' });
  });
});

describe('what backends send unasked', () => {
  /** A client subscribed to `uri`, once an update of it has come through: the backend session is followed. */
  async function subscribed(uri: string, backend: LibraryServer, upstream: string): Promise<{ client: Client; updates: string[] }> {
    const { client } = await connectClient(gw.url);
    const updates: string[] = [];
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, (n) => void updates.push(n.params.uri));
    await client.subscribeResource({ uri });
    await waitFor(
      async () => {
        await backend.touch(upstream);
        return updates.length > 0;
      },
      'a resource update relayed to the client',
      5_000,
      100,
    );
    return { client, updates };
  }

  it('relays updates of a subscribed resource to the client, under the URI it subscribed to', async () => {
    const { client, updates } = await subscribed('mcpgw://alpha/file:///README.md', alpha, 'file:///README.md');
    expect(new Set(updates)).toEqual(new Set(['mcpgw://alpha/file:///README.md']));
    await client.close();
  });

  it('asks a backend again as soon as it says its prompts changed, and tells clients', async () => {
    const { client } = await connectClient(gw.url);
    let changed = 0;
    client.setNotificationHandler(PromptListChangedNotificationSchema, () => void changed++);
    // Let the SDK client's GET stream open: the gateway tells the streams open when the catalog changes.
    await new Promise((r) => setTimeout(r, 200));
    beta.addPrompt('translate');
    await waitFor(() => changed > 0, 'prompts/list_changed from the gateway', 5_000);
    const prompts = await all<{ name: string }>((cursor) => client.listPrompts(cursor ? { cursor } : {}), 'prompts');
    expect(prompts.map((p) => p.name)).toContain('beta_translate');
    await client.close();
  });
});

describe('resources and prompts a REST backend declares (examples/gateway.yaml)', () => {
  let orders: OrdersApi;
  let restGw: RunningGateway;
  let client: Client;
  beforeAll(async () => {
    orders = await startOrdersApi();
    const example = await loadConfigFile(new URL('../../examples/gateway.yaml', import.meta.url).pathname, { ...process.env, ORDERS_API_URL: orders.url });
    const restOnly = { ...example, backends: example.backends.filter((b) => b.name === 'orders') };
    restGw = await runStandalone({ ...restOnly, server: { ...example.server, port: 0 }, logging: { level: 'silent' }, audit: { ...example.audit, sink: 'off' } });
    ({ client } = await connectClient(restGw.url));
  });
  afterAll(async () => {
    await client?.close();
    await restGw?.stop();
    await orders?.close();
  });

  it('lists the declared resource under the backend’s namespace and reads it with a GET', async () => {
    const { resources } = await client.listResources();
    expect(resources).toEqual([{ uri: 'mcpgw://orders/orders://open', name: 'open-orders', title: 'Open orders', mimeType: 'application/json' }]);
    const read = await client.readResource({ uri: 'mcpgw://orders/orders://open' });
    expect(read.contents).toHaveLength(1);
    expect(read.contents[0]).toMatchObject({ uri: 'mcpgw://orders/orders://open', mimeType: 'application/json' });
    const { orders: open } = JSON.parse(textOf(read) as string) as { orders: Array<{ status: string }> };
    expect(open.length).toBeGreaterThan(0);
    expect(open.every((o) => o.status === 'open')).toBe(true);
    await expect(client.subscribeResource({ uri: 'mcpgw://orders/orders://open' })).rejects.toMatchObject({ code: -32601 });
  });

  it('renders the declared prompt with its arguments, and names a missing one', async () => {
    const { prompts } = await client.listPrompts();
    expect(prompts.map((p) => p.name)).toEqual(['orders_triage']);
    const got = await client.getPrompt({ name: 'orders_triage', arguments: { id: '1001' } });
    expect(got.messages).toEqual([{ role: 'user', content: { type: 'text', text: 'Look up order 1001 with orders_get_order and say whether it needs attention.' } }]);
    await expect(client.getPrompt({ name: 'orders_triage', arguments: {} })).rejects.toMatchObject({ code: -32602, message: expect.stringContaining('needs argument "id"') });
  });
});

describe('a native backend with resources and prompts but no tools', () => {
  it('is discovered: the gateway asks it only for the lists its capabilities declare', async () => {
    const docs = await serveMcp(() => {
      const mcp = new McpServer({ name: 'docs-only', version: '1.0.0' });
      mcp.registerResource('guide', 'file:///guide.md', { mimeType: 'text/markdown' }, async (uri) => ({ contents: [{ uri: uri.href, mimeType: 'text/markdown', text: '# guide' }] }));
      mcp.registerPrompt('summarise', { description: 'summarise' }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: 'summarise' } }] }));
      return mcp;
    });
    const own = await startGateway({ backends: [{ name: 'docs', kind: 'mcp', urls: [docs.url] }] });
    try {
      await waitFor(() => own.core.catalog.current().resources.size === 1, 'the docs backend discovered');
      const { client } = await connectClient(own.url);
      const { resources } = await client.listResources();
      expect(resources.map((r) => r.uri)).toEqual(['mcpgw://docs/file:///guide.md']);
      const read = await client.readResource({ uri: 'mcpgw://docs/file:///guide.md' });
      expect(read.contents[0]).toMatchObject({ uri: 'mcpgw://docs/file:///guide.md', text: '# guide' });
      expect((await client.listPrompts()).prompts.map((p) => p.name)).toEqual(['docs_summarise']);
      await client.close();
    } finally {
      await own.stop();
      await docs.close();
    }
  });
});
