/**
 * Gateway configurations for the bench. Built as plain objects and passed through the real
 * `parseConfig`, so the gateway under test is configured exactly as a YAML file would configure it.
 */
import { parseConfig } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { DOCS_PREFIX } from './docs-fixture.js';

/** Where the backends child listens. */
export interface BackendUrls {
  readonly orders: string;
  readonly echo: string;
  /** The native backend with one resource and one prompt (bench/echo-mcp.ts). */
  readonly docs: string;
  /** A trivial node:http server the 20 listing-only REST backends point at. */
  readonly stub: string;
  /** The echo tool on a 2026-07-28 (stateless-only) SDK 2.4 server (bench/stateless-echo.ts). */
  readonly stateless: string;
}

export const LIST_BACKENDS = 20;
export const TOOLS_PER_BACKEND = 50;
export const RESOURCES_PER_BACKEND = 50;

/** Logging at `warn`: per-request logging would measure pino, not the gateway. Audit off: bench/audit.ts measures it. */
export const GATEWAY_BASE = { server: { host: '127.0.0.1', port: 0 }, logging: { level: 'warn' }, audit: { sink: 'off' } } as const;

/** The REST tool every tool-call measurement uses: GET /orders/{id} on the example orders API. */
export const GET_ORDER_TOOL = {
  name: 'get_order',
  description: 'One order by its id.',
  inputSchema: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } }, required: ['id'], additionalProperties: false },
  annotations: { readOnlyHint: true },
  http: { method: 'GET', path: '/orders/{id}' },
} as const;

/**
 * The gateway for tool calls, reads and prompts: the example orders API (REST), the echo SDK
 * server (MCP tools), the same echo on a 2026-07-28 server (`modern_echo`) and the docs SDK
 * server (MCP resource and prompt).
 */
export function callsConfig(urls: BackendUrls): Readonly<GatewayConfig> {
  return parseConfig({
    ...GATEWAY_BASE,
    backends: [
      {
        name: 'orders',
        kind: 'rest',
        urls: [urls.orders],
        tools: [GET_ORDER_TOOL],
      },
      { name: 'echo', kind: 'mcp', urls: [urls.echo] },
      { name: 'modern', kind: 'mcp', urls: [urls.stateless] },
      { name: DOCS_PREFIX, kind: 'mcp', urls: [urls.docs] },
    ],
  });
}

/** Pinning on for the bench (bench/pinning.ts): trust on first use in memory, the cheapest store, so the figure is the check itself. */
export const PINNING_ON = { mode: 'trust-on-first-use', store: 'memory' } as const;

/**
 * 20 REST backends × 50 tools and 50 resources, with schemas and descriptions of a realistic size
 * so the listings resemble a real catalog rather than 1,000 bare names. Listings are served from
 * the catalog snapshot whatever the backend's kind, so configured REST entries measure the same
 * path as discovered native ones without 20 more servers. `pinning` is the `pinning` section
 * (bench/pinning.ts compares it off and on).
 */
export function listingConfig(urls: Pick<BackendUrls, 'stub'>, pageSize: number, pinning: Record<string, unknown> = {}): Readonly<GatewayConfig> {
  const backends = Array.from({ length: LIST_BACKENDS }, (_, b) => ({
    name: `svc${String(b).padStart(2, '0')}`,
    kind: 'rest',
    urls: [urls.stub],
    tools: Array.from({ length: TOOLS_PER_BACKEND }, (_, t) => ({
      name: `op_${String(t).padStart(2, '0')}`,
      title: `Operation ${t} of service ${b}`,
      description: `Performs operation ${t} on service ${b}: looks up a resource by id and returns its current state as JSON.`,
      inputSchema: {
        type: 'object',
        properties: { id: { type: 'string', pattern: '^[0-9]+$' }, verbose: { type: 'boolean' } },
        required: ['id'],
        additionalProperties: false,
      },
      annotations: { readOnlyHint: true },
      http: { method: 'GET', path: `/r${t}/{id}` },
    })),
    resources: Array.from({ length: RESOURCES_PER_BACKEND }, (_, r) => ({
      uri: `file:///svc${b}/docs/guide-${String(r).padStart(2, '0')}.md`,
      name: `guide-${String(r).padStart(2, '0')}`,
      title: `Guide ${r} of service ${b}`,
      description: `How to use part ${r} of service ${b}: concepts, limits and worked examples, in Markdown.`,
      mimeType: 'text/markdown',
      http: { path: `/docs/${r}` },
    })),
  }));
  return parseConfig({ ...GATEWAY_BASE, catalog: { pageSize }, pinning, backends });
}
