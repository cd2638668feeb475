import { z } from 'zod';

/** Tool and backend names: what MCP clients accept in tool names (SEP-986 charset), kept short. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const name = z.string().regex(NAME, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
const positiveMs = z.number().int().positive();
const jsonObject = z.record(z.string(), z.unknown());

const annotations = z
  .object({
    title: z.string(),
    readOnlyHint: z.boolean(),
    destructiveHint: z.boolean(),
    idempotentHint: z.boolean(),
    openWorldHint: z.boolean(),
  })
  .partial()
  .strict();

/** How a REST tool call becomes an HTTP request; `{arg}` placeholders take argument values. */
const httpMapping = z
  .object({
    method: z.enum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().startsWith('/', 'must start with "/"'),
    query: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    body: z.union([z.enum(['none', 'arguments']), jsonObject]).optional(),
  })
  .strict();

const restTool = z
  .object({
    name,
    title: z.string().optional(),
    description: z.string().optional(),
    inputSchema: jsonObject.default({ type: 'object' }),
    outputSchema: jsonObject.optional(),
    annotations: annotations.optional(),
    timeoutMs: positiveMs.optional(),
    http: httpMapping,
  })
  .strict();

const backendCommon = {
  name,
  urls: z.array(httpUrl).min(1, 'needs at least one URL'),
  /** Prefix for tool names; defaults to the backend name; "" exposes the backend's names unchanged. */
  prefix: z.union([z.literal(''), name]).optional(),
  timeoutMs: positiveMs.optional(),
  /** Static headers sent to this backend (outbound credentials, for instance); never the client's token. */
  headers: z.record(z.string(), z.string()).default({}),
};

const restBackend = z.object({ kind: z.literal('rest'), ...backendCommon, tools: z.array(restTool).min(1, 'needs at least one tool') }).strict();
const mcpBackend = z.object({ kind: z.literal('mcp'), ...backendCommon }).strict();

export const backendSchema = z.discriminatedUnion('kind', [restBackend, mcpBackend]);

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        path: z.string().startsWith('/').default('/mcp'),
        /** Allowed browser origins (exact, or with `*` wildcards); requests without Origin are allowed. */
        allowedOrigins: z.array(z.string()).default(['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*']),
        maxBodyBytes: z.number().int().positive().default(1_048_576),
        keepAliveIntervalMs: positiveMs.default(15_000),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        /** `memory`: one process; `hazelcast`: shared by every gateway instance of a Hazelcast cluster. */
        store: z.enum(['memory', 'hazelcast']).default('memory'),
        /** Idle time after which a session expires; every use extends it (sliding expiry). */
        ttlSeconds: z.number().int().positive().default(1800),
        hazelcast: z
          .object({
            clusterName: z.string().min(1).default('dev'),
            members: z.array(z.string().regex(/^[^\s:]+(:\d{1,5})?$/, 'must be host or host:port')).min(1).default(['127.0.0.1:5701']),
            mapName: z.string().min(1).default('mcp-gateway-sessions'),
            /** How long a session operation may wait for the cluster before the request gets 503. */
            invocationTimeoutMs: positiveMs.default(2_000),
          })
          .strict()
          .prefault({}),
      })
      .strict()
      .prefault({}),
    catalog: z
      .object({
        pageSize: z.number().int().min(1).max(10_000).default(500),
        separator: z.string().regex(/^[_.-]{1,2}$/).default('_'),
        /** How often native MCP backends are asked for their tools. */
        refreshIntervalMs: positiveMs.default(60_000),
      })
      .strict()
      .prefault({}),
    upstream: z
      .object({
        timeoutMs: positiveMs.default(30_000),
        connectTimeoutMs: positiveMs.default(2_000),
        /** How long a failing instance is tried only after healthy ones. */
        cooldownMs: positiveMs.default(10_000),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    backends: z.array(backendSchema).default([]),
  })
  .strict();

export type GatewayConfig = z.output<typeof configSchema>;
export type BackendConfig = z.output<typeof backendSchema>;
export type RestBackendConfig = z.output<typeof restBackend>;
export type McpBackendConfig = z.output<typeof mcpBackend>;
export type RestToolConfig = z.output<typeof restTool>;
export type HttpMapping = z.output<typeof httpMapping>;
export type ToolAnnotations = z.output<typeof annotations>;
