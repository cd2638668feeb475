/**
 * The backends section of the configuration: REST backends with their tools, resources and
 * prompts, native MCP backends, and the primitives (names, URLs, durations) the rest shares.
 */
import { z } from 'zod';
import { backendPinning } from './pinning-schema.js';
import { ERA_SETTINGS, type EraSetting } from '../mcp/era.js';

/** Tool and backend names: what MCP clients accept in tool names (SEP-986 charset), kept short. */
const NAME = /^[A-Za-z0-9_.-]{1,64}$/;
const name = z.string().regex(NAME, 'must be 1-64 characters of A-Z a-z 0-9 _ . -');
/** An http(s) URL (backends, issuers, OPA, Consul). */
export const httpUrl = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' });
/** A duration in milliseconds, above zero. */
export const positiveMs = z.number().int().positive();
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
    method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).default('GET'),
    path: z.string().startsWith('/', 'must start with "/"'),
    query: z.record(z.string(), z.string()).optional(),
    headers: z.record(z.string(), z.string()).optional(),
    /** `arguments`, `none`, a JSON template object, or exactly `"{arg}"`: that one argument is the whole body (an array, say). */
    body: z.union([z.enum(['none', 'arguments']), z.string().regex(/^\{[A-Za-z0-9_.-]+\}$/, 'must be "arguments", "none", "{argument}" or a JSON object'), jsonObject]).optional(),
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
    /** Labels policies can match on (`input.tool.tags`); not shown to clients. */
    tags: z.array(z.string().min(1)).default([]),
    timeoutMs: positiveMs.optional(),
    http: httpMapping,
  })
  .strict();

/**
 * A secret named by reference, never written into the configuration: an environment variable, or
 * a file read each time the secret is used (so a rotated Kubernetes secret is picked up).
 */
export const secretRef = z.union([z.object({ env: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'must be an environment variable name') }).strict(), z.object({ file: z.string().min(1) }).strict()], {
  error: 'must be {env: NAME} or {file: PATH}',
});

/**
 * On-behalf-of (RFC 8693): the gateway exchanges the caller's access token at the identity
 * provider for one whose audience is this backend, authenticating as its own confidential client.
 */
const tokenExchange = z
  .object({
    type: z.literal('oauth2-token-exchange'),
    tokenUrl: httpUrl,
    clientId: z.string().min(1),
    clientSecret: secretRef,
    /** The `audience` asked for: the backend's client id (Keycloak) or identifier at the identity provider. */
    audience: z.string().min(1),
    scope: z.string().optional(),
    /**
     * What requests made for no caller carry (catalog discovery, closing backend sessions):
     * the gateway's own client-credentials token from the same client, or nothing.
     */
    withoutCaller: z.enum(['client-credentials', 'none']).default('client-credentials'),
  })
  .strict();

/** How the gateway authenticates to a backend: nothing, OAuth2 client credentials, or token exchange on the caller's behalf. */
export const backendCredentials = z.discriminatedUnion('type', [
  z.object({ type: z.literal('none') }).strict(),
  z
    .object({
      type: z.literal('oauth2-client-credentials'),
      tokenUrl: httpUrl,
      clientId: z.string().min(1),
      clientSecret: z.string().min(1),
      scope: z.string().optional(),
      /** RFC 8707 resource indicator for the backend, if its authorization server wants one. */
      resource: z.string().optional(),
    })
    .strict(),
  tokenExchange,
]);

const backendCommon = {
  name,
  urls: z.array(httpUrl).min(1, 'needs at least one URL'),
  /** Prefix for tool names; defaults to the backend name; "" exposes the backend's names unchanged. */
  prefix: z.union([z.literal(''), name]).optional(),
  timeoutMs: positiveMs.optional(),
  /** Static headers sent to this backend (outbound credentials, for instance); never the client's token. */
  headers: z.record(z.string(), z.string()).default({}),
  /** OAuth scopes a caller's token must carry to call this backend's tools (403 insufficient_scope otherwise). */
  requiredScopes: z.array(z.string().min(1)).default([]),
  /** Send the caller's identity in x-mcp-gateway-* headers (the gateway sets them; clients cannot). */
  identityHeaders: z.boolean().default(false),
  /** How the gateway authenticates to this backend: nothing, OAuth2 client credentials, or token exchange on the caller's behalf. */
  credentials: backendCredentials.default({ type: 'none' }),
  /** Overrides of `pinning.mode` and `pinning.onDrift` for this backend (docs/tool-pinning.md). */
  pinning: backendPinning.optional(),
  /**
   * The most calls open at once to this backend, per gateway process (and per Envoy instance for
   * calls Envoy routes): a call past it is refused at once with `GW_UPSTREAM_BUSY` instead of
   * piling onto a backend that cannot take it. Absent: no cap.
   */
  maxConcurrentCalls: z.number().int('must be a whole number').min(1, 'must be at least 1').optional(),
};

/** A resource a REST backend serves at a fixed path (read with GET; the answer's body is the content). */
const restResource = z
  .object({
    /** The URI clients see (namespaced by the backend's prefix, docs/configuration.md#resources-and-prompts). */
    uri: z.string().regex(/^[A-Za-z][A-Za-z0-9+.-]*:\S*$/, 'must be an absolute URI'),
    name: z.string().min(1),
    title: z.string().optional(),
    description: z.string().optional(),
    mimeType: z.string().optional(),
    http: z.object({ path: z.string().startsWith('/', 'must start with "/"'), headers: z.record(z.string(), z.string()).optional() }).strict(),
  })
  .strict();

/** A prompt the gateway answers itself from a template: `{argument}` in a message takes the argument's value. */
const restPrompt = z
  .object({
    name,
    title: z.string().optional(),
    description: z.string().optional(),
    arguments: z
      .array(z.object({ name: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'must be 1-64 characters of A-Z a-z 0-9 _ . -'), description: z.string().optional(), required: z.boolean().optional() }).strict())
      .default([]),
    messages: z.array(z.object({ role: z.enum(['user', 'assistant']), text: z.string().min(1) }).strict()).min(1, 'needs at least one message'),
  })
  .strict();

/** Which operations of an OpenAPI document become tools: by tag or by operationId (`*` globs). */
const operationSelector = z
  .object({ tags: z.array(z.string().min(1)).default([]), operations: z.array(z.string().min(1)).default([]) })
  .strict()
  .prefault({});

/** An OpenAPI 3.0/3.1 document whose operations become the backend's tools (docs/openapi.md). */
const openapiSource = z
  .object({
    /** A local file (JSON or YAML); relative `$ref`s to other local files are followed. */
    file: z.string().min(1).optional(),
    /** An http(s) URL; the document must be self-contained (external `$ref`s are not followed). */
    url: httpUrl.optional(),
    /** A Consul KV key (needs `catalog.consul`); self-contained like a URL. */
    consulKey: z.string().regex(/^[^/]\S*$/, 'must be a KV key without a leading "/"').optional(),
    /** Only these operations (none listed: all); an operation matching either list is taken. */
    include: operationSelector,
    /** Never these operations, even when included. */
    exclude: operationSelector,
  })
  .strict()
  .refine((o) => [o.file, o.url, o.consulKey].filter((v) => v !== undefined).length === 1, { message: 'needs exactly one of "file", "url", "consulKey"' });

const restBackend = z
  .object({
    kind: z.literal('rest'),
    ...backendCommon,
    tools: z.array(restTool).default([]),
    resources: z.array(restResource).default([]),
    prompts: z.array(restPrompt).default([]),
    openapi: openapiSource.optional(),
  })
  .strict()
  .refine((b) => b.tools.length + b.resources.length + b.prompts.length > 0 || b.openapi !== undefined, { message: 'needs at least one tool, resource or prompt, or an openapi document', path: ['tools'] });
const mcpBackend = z
  .object({
    kind: z.literal('mcp'),
    ...backendCommon,
    /**
     * Which MCP era the backend speaks: `auto` probes `server/discover` and falls back to
     * `initialize`; `session` or `stateless` pins it (no probe), e.g. for a backend whose probe misleads.
     */
    era: z.enum(ERA_SETTINGS as [EraSetting, ...EraSetting[]]).default('auto'),
  })
  .strict();

export const backendSchema = z.discriminatedUnion('kind', [restBackend, mcpBackend]);

/** REST tool definitions as a Consul service publishes them in KV (same shape as `backends[].tools`). */
export const restToolsSchema = z.array(restTool).min(1, 'needs at least one tool');

export type BackendConfig = z.output<typeof backendSchema>;
export type RestBackendConfig = z.output<typeof restBackend>;
export type McpBackendConfig = z.output<typeof mcpBackend>;
export type RestToolConfig = z.output<typeof restTool>;
export type RestResourceConfig = z.output<typeof restResource>;
export type RestPromptConfig = z.output<typeof restPrompt>;
export type HttpMapping = z.output<typeof httpMapping>;
export type OpenApiSourceConfig = z.output<typeof openapiSource>;
export type BackendCredentialsConfig = z.output<typeof backendCredentials>;
export type TokenExchangeConfig = z.output<typeof tokenExchange>;
export type SecretRef = z.output<typeof secretRef>;
export type ToolAnnotations = z.output<typeof annotations>;
