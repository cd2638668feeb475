/**
 * The catalog's backend-list signal xDS depends on: an instance moving changes no tool, so the
 * tool listeners stay quiet, but Envoy's endpoints must still follow.
 */
import { describe, expect, it } from 'vitest';
import { Catalog } from '../../src/catalog/catalog.js';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import type { BackendsListener, CatalogSource } from '../../src/catalog/source.js';
import { backendSchema } from '../../src/config/schema.js';
import { createLogger } from '../../src/telemetry/logger.js';

const docs = (url: string): BackendDescriptor => backendSchema.parse({ name: 'docs', kind: 'mcp', urls: [url] });

describe('Catalog.onBackendsChange', () => {
  it('reports every backend list from the source, also when the tools stay the same', async () => {
    let push: BackendsListener = () => undefined;
    const source: CatalogSource = { start: async (l) => ((push = l), l([docs('http://10.0.0.1:3000/mcp')])), stop: async () => undefined };
    const catalog = new Catalog({ source, discover: async () => ({ servesResources: false, tools: [{ name: 'search', inputSchema: { type: 'object' } }], resources: [], resourceTemplates: [], prompts: [] }), separator: '_', pageSize: 100, refreshIntervalMs: 60_000, logger: createLogger('silent') });
    const lists: string[][] = [];
    let toolChanges = 0;
    const unsubscribe = catalog.onBackendsChange((b) => lists.push(b.flatMap((x) => x.urls)));
    await catalog.start();
    catalog.onChange(() => void toolChanges++);

    push([docs('http://10.0.0.2:3000/mcp')]);
    expect(toolChanges).toBe(0);
    expect(lists).toEqual([['http://10.0.0.1:3000/mcp'], ['http://10.0.0.2:3000/mcp']]);
    expect(catalog.backendList().flatMap((b) => b.urls)).toEqual(['http://10.0.0.2:3000/mcp']);

    unsubscribe();
    push([]);
    expect(lists).toHaveLength(2);
    await catalog.stop();
  });
});
