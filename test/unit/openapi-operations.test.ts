import { describe, expect, it } from 'vitest';
import { OpenApiError, parseDocument } from '../../src/catalog/openapi/document.js';
import { operationsToTools, toolName } from '../../src/catalog/openapi/operations.js';
import { compileArgumentCheck } from '../../src/catalog/validation.js';
import { backendSchema } from '../../src/config/schema.js';
import { GatewayError } from '../../src/errors.js';
import { buildRestRequest } from '../../src/upstream/rest-request.js';

const ALL: { include: { tags: string[]; operations: string[] }; exclude: { tags: string[]; operations: string[] } } = { include: { tags: [], operations: [] }, exclude: { tags: [], operations: [] } };

/** A document as the importer sees it: parsed and dereferenced by the real parser. */
async function convert(doc: Record<string, unknown>, select = ALL) {
  return operationsToTools(await parseDocument({ text: JSON.stringify(doc), where: 'test document' }), select);
}

const PETS = {
  openapi: '3.0.3',
  info: { title: 'pets', version: '1' },
  paths: {
    '/pets/{petId}': {
      parameters: [{ name: 'petId', in: 'path', required: true, schema: { type: 'integer' }, description: 'The pet.' }],
      get: {
        operationId: 'getPet',
        summary: 'Get a pet',
        description: 'Returns one pet.',
        tags: ['pets'],
        parameters: [
          { name: 'fields', in: 'query', schema: { type: 'array', items: { type: 'string' } } },
          { name: 'X-Request-Id', in: 'header', schema: { type: 'string' } },
          { name: 'Authorization', in: 'header', schema: { type: 'string' } },
        ],
      },
      put: {
        operationId: 'pets/replace',
        tags: ['pets', 'admin'],
        requestBody: { required: true, content: { 'application/json': { schema: { $ref: '#/components/schemas/Pet' } } } },
      },
      delete: { tags: ['admin'] },
      options: { operationId: 'petOptions' },
    },
    '/pets': {
      post: {
        operationId: 'addPets',
        parameters: [{ name: 'name', in: 'query', schema: { type: 'string' } }],
        requestBody: { content: { 'application/json': { schema: { type: 'array', items: { $ref: '#/components/schemas/Pet' } } } } },
      },
      head: { operationId: 'petsExist' },
      patch: { operationId: 'upload', requestBody: { required: true, content: { 'multipart/form-data': { schema: { type: 'object', properties: { file: { type: 'string' } } } } } } },
    },
  },
  components: {
    schemas: {
      Pet: {
        type: 'object',
        required: ['name'],
        properties: {
          name: { type: 'string', pattern: '^[a-z]+$' },
          tag: { type: 'string', nullable: true },
          weight: { type: 'number', minimum: 0, exclusiveMinimum: true },
          owner: { $ref: '#/components/schemas/Person' },
          'x-internal': { type: 'string' },
        },
        'x-vendor': 'dropped',
      },
      Person: { type: 'object', properties: { name: { type: 'string' }, pets: { type: 'array', items: { $ref: '#/components/schemas/Pet' } } } },
    },
  },
};

describe('OpenAPI operations as tools', () => {
  it('makes a tool of each operation the REST translation can send, skipping the others with a reason', async () => {
    const c = await convert(PETS);
    expect(c.tools.map((t) => t.name).sort()).toEqual(['addPets', 'delete_pets_petId', 'getPet', 'pets_replace', 'petsExist'].sort());
    expect(c.skipped).toEqual([
      { operation: 'OPTIONS /pets/{petId} (petOptions)', reason: 'the REST translation does not send OPTIONS requests' },
      { operation: 'PATCH /pets (upload)', reason: 'its request body is only multipart/form-data; the REST translation sends JSON' },
    ]);
    // Every tool passes the configuration's own validation of hand-written tools, and its schema compiles.
    for (const t of c.tools) {
      expect(backendSchema.safeParse({ name: 'b', kind: 'rest', urls: ['http://x'], tools: [t] }).success, t.name).toBe(true);
      expect(() => compileArgumentCheck(t.inputSchema)).not.toThrow();
    }
  });

  it('describes parameters, titles and hints the way a model needs them', async () => {
    const get = (await convert(PETS)).tools.find((t) => t.name === 'getPet')!;
    expect(get.title).toBe('Get a pet');
    expect(get.description).toBe('Get a pet\n\nReturns one pet.');
    expect(get.annotations).toEqual({ readOnlyHint: true });
    expect(get.tags).toEqual(['pets']);
    expect(get.inputSchema).toEqual({
      type: 'object',
      properties: {
        petId: { type: 'integer', description: 'The pet.' },
        fields: { type: 'array', items: { type: 'string' } },
        'X-Request-Id': { type: 'string' },
      },
      required: ['petId'],
    });
    // Authorization is never a parameter (OpenAPI says so; the gateway sends its own credentials).
    expect(get.http).toEqual({ method: 'GET', path: '/pets/{petId}', query: { fields: '{fields}' }, headers: { 'X-Request-Id': '{X-Request-Id}' }, body: 'none' });
    const tools = (await convert(PETS)).tools;
    expect(tools.find((t) => t.name === 'petsExist')!.annotations).toEqual({ readOnlyHint: true });
    expect(tools.find((t) => t.name === 'pets_replace')!.annotations).toEqual({ idempotentHint: true });
    expect(tools.find((t) => t.name === 'delete_pets_petId')!.annotations).toEqual({ idempotentHint: true });
    expect(tools.find((t) => t.name === 'addPets')!.annotations).toEqual({});
  });

  it('flattens an object body into arguments, converting 3.0 keywords and cutting recursion', async () => {
    const put = (await convert(PETS)).tools.find((t) => t.name === 'pets_replace')!;
    expect(put.http.body).toBe('arguments');
    const props = put.inputSchema.properties as Record<string, any>;
    expect(Object.keys(props)).toEqual(['petId', 'name', 'tag', 'weight', 'owner', 'x-internal']);
    expect(put.inputSchema.required).toEqual(['petId', 'name']);
    expect(props.tag).toEqual({ type: ['string', 'null'] });
    expect(props.weight).toEqual({ type: 'number', exclusiveMinimum: 0 });
    // Pet → owner (Person) → pets → items: Pet again, which is cut to "any value".
    expect(props.owner.properties.pets.items).toEqual({});
    const check = compileArgumentCheck(put.inputSchema);
    expect(check({ petId: 1, name: 'rex', tag: null })).toBeNull();
    expect(check({ petId: 1, name: 'Rex' })).toMatch(/pattern/);
  });

  it('keeps a body that is not a plain object as one "body" argument', async () => {
    const post = (await convert(PETS)).tools.find((t) => t.name === 'addPets')!;
    expect(post.http).toEqual({ method: 'POST', path: '/pets', query: { name: '{name}' }, body: '{body}' });
    expect((post.inputSchema.properties as any).body.type).toBe('array');
    expect(post.inputSchema.required).toBeUndefined();
    const req = buildRestRequest(post.http, { name: 'batch', body: [{ name: 'a' }] });
    expect(req.path).toBe('/pets?name=batch');
    expect(JSON.parse(req.body!)).toEqual([{ name: 'a' }]);
    expect(buildRestRequest(post.http, {}).body).toBeUndefined();
  });

  it('renames arguments that clash or are not valid names, and the mapping still sends the real names', async () => {
    const c = await convert({
      openapi: '3.1.0',
      info: { title: 't', version: '1' },
      paths: {
        '/items/{id}': {
          post: {
            operationId: 'update item!',
            parameters: [
              { name: 'id', in: 'path', required: true, schema: { type: 'string' } },
              { name: 'id', in: 'query', schema: { type: 'string' } },
              { name: 'page size', in: 'query', schema: { type: 'integer' } },
            ],
            requestBody: { content: { 'application/json': { schema: { type: 'object', properties: { id: { type: 'string' }, note: { type: 'string' } } } } } },
          },
        },
      },
    });
    const t = c.tools[0]!;
    expect(t.name).toBe('update_item');
    expect(Object.keys(t.inputSchema.properties as object)).toEqual(['id', 'query_id', 'query_page_size', 'body']);
    expect(t.http.query).toEqual({ id: '{query_id}', 'page size': '{query_page_size}' });
    const req = buildRestRequest(t.http, { id: 'a', query_id: 'b', query_page_size: 5, body: { id: 'c', note: 'n' } });
    expect(req.path).toBe('/items/a?id=b&page+size=5');
    expect(JSON.parse(req.body!)).toEqual({ id: 'c', note: 'n' });
  });

  it('keeps the REST translation’s path protections for generated tools', async () => {
    const get = (await convert(PETS)).tools.find((t) => t.name === 'getPet')!;
    expect(buildRestRequest(get.http, { petId: '../admin' }).path).toBe('/pets/..%2Fadmin');
    expect(() => buildRestRequest(get.http, { petId: '..' })).toThrow(GatewayError);
  });

  it('selects operations by tag or operationId glob, and excludes after including', async () => {
    const names = async (include: object, exclude: object) =>
      (await convert(PETS, { include: { tags: [], operations: [], ...include }, exclude: { tags: [], operations: [], ...exclude } })).tools.map((t) => t.name).sort();
    expect(await names({ tags: ['pets'] }, {})).toEqual(['getPet', 'pets_replace']);
    expect(await names({ tags: ['pets'] }, { tags: ['admin'] })).toEqual(['getPet']);
    expect(await names({ operations: ['add*', 'petsExist'] }, {})).toEqual(['addPets', 'petsExist']);
    expect(await names({}, { operations: ['pets/*'], tags: ['admin'] })).toEqual(['addPets', 'getPet', 'petsExist']);
    const c = await convert(PETS, { include: { tags: ['pets'], operations: [] }, exclude: { tags: [], operations: [] } });
    expect(c.excluded).toBe(5);
  });

  it('gives operations whose names clash stable, distinct names', async () => {
    const doc = (a: string, b: string) => ({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { [a]: { get: { operationId: 'list/all' } }, [b]: { get: { operationId: 'list_all' } } },
    });
    const one = (await convert(doc('/a', '/b'))).tools.map((t) => t.name);
    const two = (await convert(doc('/b', '/a'))).tools.map((t) => t.name);
    expect(new Set(one).size).toBe(2);
    expect(one.every((n) => /^list_all_[0-9a-f]{8}$/.test(n))).toBe(true);
    expect([...two].sort()).toEqual([...one].sort());
    expect(toolName('x'.repeat(100))).toHaveLength(64);
    expect(toolName('x'.repeat(100))).not.toBe(toolName(`${'x'.repeat(99)}y`));
  });

  it('skips an operation whose schema cannot be used, and only that one', async () => {
    const c = await convert({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: {
        '/a': { get: { operationId: 'bad', parameters: [{ name: 'q', in: 'query', schema: { type: 'string', pattern: '(?i)abc' } }] } },
        '/b/{x}': { get: { operationId: 'noParam' } },
        '/c': { get: { operationId: 'remote', parameters: [{ name: 'q', in: 'query', schema: { $ref: 'https://example.com/s.json' } }] } },
        '/d': { get: { operationId: 'cookie', parameters: [{ name: 's', in: 'cookie', required: true, schema: { type: 'string' } }] } },
        '/e': { get: { operationId: 'fine' } },
      },
    });
    expect(c.tools.map((t) => t.name)).toEqual(['fine']);
    expect(c.skipped.map((s) => s.operation)).toEqual(['GET /a (bad)', 'GET /b/{x} (noParam)', 'GET /c (remote)', 'GET /d (cookie)']);
    expect(c.skipped[0]!.reason).toMatch(/not an ECMAScript regular expression/);
    expect(c.skipped[1]!.reason).toMatch(/no path parameter/);
    expect(c.skipped[2]!.reason).toMatch(/could not be resolved/);
    expect(c.skipped[3]!.reason).toMatch(/cookie/);
  });

  it('expands a self-referencing schema to a bounded tree without hanging', async () => {
    const c = await convert({
      openapi: '3.0.0',
      info: { title: 't', version: '1' },
      paths: { '/tree': { post: { operationId: 'tree', requestBody: { content: { 'application/json': { schema: { $ref: '#/components/schemas/Node' } } } } } } },
      components: { schemas: { Node: { type: 'object', properties: { value: { type: 'string' }, children: { type: 'array', items: { $ref: '#/components/schemas/Node' } } } } } },
    });
    const props = c.tools[0]!.inputSchema.properties as any;
    expect(props.children).toEqual({ type: 'array', items: {} });
    expect(JSON.stringify(c.tools[0]!.inputSchema).length).toBeLessThan(500);
  });

  it('refuses documents that are not OpenAPI 3.0 or 3.1, saying what they are', async () => {
    await expect(parseDocument({ text: '{"swagger":"2.0","paths":{}}', where: 'URL http://x/s.json' })).rejects.toThrow(/URL http:\/\/x\/s.json has Swagger 2.0; only OpenAPI 3.0 and 3.1/);
    await expect(parseDocument({ text: 'paths: [', where: 'file f.yaml' })).rejects.toThrow(OpenApiError);
    await expect(parseDocument({ text: '{"openapi":"3.0.0","paths":{"/a":{"get":{"parameters":[{"$ref":"#/nope"}]}}}}', where: 'doc' })).rejects.toThrow(/could not be dereferenced/);
    const yaml = await parseDocument({ text: 'openapi: 3.1.0\ninfo: {title: t, version: "1"}\npaths:\n  /a:\n    get: {operationId: a}\n', where: 'yaml' });
    expect(operationsToTools(yaml, ALL).tools.map((t) => t.name)).toEqual(['a']);
  });

  it('keeps the text of a URL or KV document out of its errors (they reach /healthz and logs); the operator\'s own file keeps the parser\'s words', async () => {
    const secret = 'password: [ hunter2-s3cret {';
    const refused = async (text: string, file?: string): Promise<string> => {
      const err = await parseDocument({ text, where: file ? `file ${file}` : 'Consul KV key "mcp/openapi/x"', ...(file ? { file } : {}) }).catch((e: Error) => e);
      expect(err).toBeInstanceOf(OpenApiError);
      return (err as Error).message;
    };
    const yaml = await refused(secret);
    expect(yaml).toMatch(/^Consul KV key "mcp\/openapi\/x" is neither JSON nor YAML: a YAML syntax error at line \d+, column \d+$/);
    const json = await refused('{"db": hunter2-s3cret}');
    expect(json).toMatch(/^Consul KV key "mcp\/openapi\/x" is neither JSON nor YAML: a (JSON )?syntax error/);
    expect(await refused('{"swagger": "hunter2-s3cret"}')).toBe('Consul KV key "mcp/openapi/x" has Swagger (not a version number); only OpenAPI 3.0 and 3.1 documents are imported');
    expect(await refused('{"openapi":"3.0.0","paths":{"/a":{"get":{"parameters":[{"$ref":"#/hunter2-s3cret"}]}}}}')).toBe('Consul KV key "mcp/openapi/x" could not be dereferenced: a $ref does not resolve within the document');
    for (const m of [yaml, json]) expect(m).not.toContain('hunter2');
    // A file is the operator's own: its errors quote the parser, context lines included.
    expect(await refused(secret, '/nonexistent/f.yaml')).toContain('hunter2');
  });
});
