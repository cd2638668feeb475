import { createServer } from 'node:http';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { connectClient } from '../support/client.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';
import { waitFor } from '../support/wait.js';

/** What the REST backend received. */
interface Seen {
  method: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

const PET = { type: 'object', required: ['name'], properties: { name: { type: 'string' }, tag: { type: 'string' }, owner: { $ref: '#/components/schemas/Owner' } } };

/** The backend's own description of its API; `extra` adds an operation (a changed document). */
function document(extra = false): Record<string, unknown> {
  const paths: Record<string, unknown> = {
    '/pets': {
      get: {
        operationId: 'listPets',
        summary: 'List pets',
        tags: ['pets'],
        parameters: [
          { name: 'limit', in: 'query', schema: { type: 'integer', maximum: 100 } },
          { name: 'tag', in: 'query', schema: { type: 'string' } },
        ],
      },
      post: {
        operationId: 'createPet',
        summary: 'Create a pet',
        tags: ['pets'],
        parameters: [{ name: 'X-Trace', in: 'header', schema: { type: 'string' } }],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
      },
    },
    '/pets/{petId}': {
      get: { operationId: 'getPet', tags: ['pets'], parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'integer' } }] },
      delete: { operationId: 'deletePet', tags: ['admin'], parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'integer' } }] },
    },
  };
  if (extra) paths['/stats'] = { get: { operationId: 'stats', tags: ['pets'] } };
  return {
    openapi: '3.0.3',
    info: { title: 'Pets', version: '1' },
    servers: [{ url: 'https://pets.example.com/api' }],
    paths,
    // A recursive schema: an owner's pets are pets.
    components: { schemas: { Pet: PET, Owner: { type: 'object', properties: { name: { type: 'string' }, pets: { type: 'array', items: { $ref: '#/components/schemas/Pet' } } } } } },
  };
}

describe('OpenAPI import, end to end', () => {
  const seen: Seen[] = [];
  let served: 'good' | 'broken' | 'changed' = 'good';
  let backendUrl: string;
  let gw: TestGateway;
  let dir: string | undefined;
  const server = createServer((req, res) => {
    let body = '';
    req.on('data', (c) => (body += c));
    req.on('end', () => {
      if (req.url === '/openapi.json') {
        if (served === 'broken') return res.writeHead(200, { 'content-type': 'application/json' }).end('{"openapi": "3.0.3", "paths": {');
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(document(served === 'changed')));
      }
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ ok: true, method: req.method, url: req.url }));
    });
  });

  beforeAll(async () => {
    backendUrl = await listen(server);
    dir = makeTempDir('openapi-e2e');
    const file = join(dir, 'pets.yaml');
    // The same API described in YAML, from a file, with only the admin operation.
    await writeFile(file, `openapi: 3.1.0\ninfo: {title: Pets, version: "1"}\npaths:\n  /pets/{petId}:\n    delete:\n      operationId: deletePet\n      tags: [admin]\n      parameters: [{name: petId, in: path, required: true, schema: {type: integer}}]\n`);
    gw = await startGateway({
      catalog: { refreshIntervalMs: 100 },
      backends: [
        // The configured instance wins over the document's `servers`; its base path comes first.
        { name: 'pets', kind: 'rest', urls: [`${backendUrl}/api`], openapi: { url: `${backendUrl}/openapi.json`, exclude: { tags: ['admin'] } } },
        { name: 'admin', kind: 'rest', urls: [`${backendUrl}/v2`], openapi: { file } },
      ],
    });
    await waitFor(() => gw.core.catalog.current().tools.size === 4, 'the documents imported');
  });

  afterAll(async () => {
    await gw?.stop();
    await closeServer(server);
    if (dir) removeDir(dir);
  });

  it('lists the operations as tools and calls them as the backend’s HTTP API', async () => {
    const { client } = await connectClient(gw.url);
    try {
      const { tools } = await client.listTools();
      expect(tools.map((t) => t.name).sort()).toEqual(['admin_deletePet', 'pets_createPet', 'pets_getPet', 'pets_listPets']);
      const list = tools.find((t) => t.name === 'pets_listPets')!;
      expect(list.title).toBe('List pets');
      expect(list.annotations).toEqual({ readOnlyHint: true });
      expect(list.inputSchema).toEqual({ type: 'object', properties: { limit: { type: 'integer', maximum: 100 }, tag: { type: 'string' } } });
      expect(tools.find((t) => t.name === 'admin_deletePet')!.annotations).toEqual({ idempotentHint: true });
      const create = tools.find((t) => t.name === 'pets_createPet')!;
      expect(create.inputSchema.required).toEqual(['name']);
      expect((create.inputSchema.properties as any).owner.properties.pets.items).toEqual({});

      seen.length = 0;
      const got = await client.callTool({ name: 'pets_getPet', arguments: { petId: 7 } });
      expect(got.isError).toBeFalsy();
      expect(got.structuredContent).toEqual({ ok: true, method: 'GET', url: '/api/pets/7' });
      await client.callTool({ name: 'pets_listPets', arguments: { limit: 2, tag: 'dog' } });
      await client.callTool({ name: 'pets_createPet', arguments: { name: 'rex', tag: 'dog', 'X-Trace': 't-1' } });
      await client.callTool({ name: 'admin_deletePet', arguments: { petId: 3 } });
      expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /api/pets/7', 'GET /api/pets?limit=2&tag=dog', 'POST /api/pets', 'DELETE /v2/pets/3']);
      const post = seen[2]!;
      expect(JSON.parse(post.body)).toEqual({ name: 'rex', tag: 'dog' });
      expect(post.headers['content-type']).toBe('application/json');
      expect(post.headers['x-trace']).toBe('t-1');

      // The generated schema is enforced before the backend is called, (a required body property is missing).
      seen.length = 0;
      const bad = await client.callTool({ name: 'pets_listPets', arguments: { limit: 1000 } });
      expect(bad.isError).toBe(true);
      const missing = await client.callTool({ name: 'pets_createPet', arguments: {} });
      expect(missing.isError).toBe(true);
      expect(seen).toEqual([]);
    } finally {
      await client.close();
    }
  });

  it('keeps the last good tools while the document is broken, says why, and takes the fixed document', async () => {
    served = 'broken';
    const health = async () => (await (await fetch(new URL('/healthz', gw.url))).json()) as { status: string; checks: Record<string, { ok: boolean; reason?: string }> };
    await waitFor(async () => (await health()).checks.backends?.ok === false, 'the broken document reported');
    const report = await health();
    expect(report.status).toBe('degraded');
    expect(report.checks.backends!.reason).toMatch(/pets: URL http:\/\/127\.0\.0\.1:\d+\/openapi\.json is neither JSON nor YAML/);
    const { client } = await connectClient(gw.url);
    try {
      expect((await client.listTools()).tools).toHaveLength(4);
      expect((await client.callTool({ name: 'pets_getPet', arguments: { petId: 1 } })).isError).toBeFalsy();
      served = 'changed';
      await waitFor(() => gw.core.catalog.current().tools.has('pets_stats'), 'the changed document imported');
      expect((await health()).checks.backends!.ok).toBe(true);
      expect((await client.listTools()).tools).toHaveLength(5);
    } finally {
      await client.close();
    }
  });
});
