import { z } from 'zod';
import { backendCredentials, backendSchema, httpUrl, positiveMs, type BackendConfig } from './backend-schema.js';
import { backendPinning, pinningSchema, type BackendPinningConfig } from './pinning-schema.js';
import { confirmationSchema, confirmRuleSchema } from './confirm-schema.js';
import { virtualServersSchema } from './virtual-server-schema.js';
import { parseUrlPrefix } from '../url-prefix.js';

export { backendSchema, restToolsSchema } from './backend-schema.js';
export type { BackendConfig, BackendCredentialsConfig, HttpMapping, McpBackendConfig, OpenApiSourceConfig, RestBackendConfig, RestPromptConfig, RestResourceConfig, RestToolConfig, SecretRef, TokenExchangeConfig, ToolAnnotations } from './backend-schema.js';

/**
 * What the operator decides for one Consul service, by its name (docs/consul.md#settings-per-service):
 * settings a service team must not choose for itself through meta — credentials (no secrets in
 * Consul, and a token minted for one backend must never reach another service) and pinning (a
 * service must not loosen the pinning of its own definitions).
 */
const consulServiceSettings = z
  .object({
    credentials: backendCredentials.optional(),
    pinning: backendPinning.optional(),
  })
  .strict();

/** An http(s) URL prefix, kept as the URL parser normalises it, so it compares with parsed URLs. */
const urlPrefix = z.string().transform((text, ctx) => {
  const prefix = parseUrlPrefix(text);
  if (typeof prefix !== 'string') return prefix.href;
  // The text is not echoed: a prefix with a password in it would put the password in the error.
  ctx.addIssue({ code: 'custom', message: prefix });
  return z.NEVER;
});

/** The Consul catalog source (docs/consul.md has the registration contract for tool services). */
const consulSource = z
  .object({
    url: httpUrl.default('http://127.0.0.1:8500'),
    /** ACL token with read access to the catalog, health and the KV prefix. */
    token: z.string().min(1).optional(),
    datacenter: z.string().min(1).optional(),
    /** KV folder holding `<prefix><service>` = JSON array of REST tool definitions. */
    kvPrefix: z.string().regex(/^[^/].*\/$/, 'must end with "/" and not start with "/"').default('mcp/tools/'),
    /** KV folder holding `<prefix><service>` = the service's Rego snippet (package mcp.services.<service>), loaded into OPA. */
    policyPrefix: z.string().regex(/^[^/].*\/$/, 'must end with "/" and not start with "/"').default('mcp/policies/'),
    /**
     * The only KV folder a service's `mcp-openapi` meta may name a document in (docs/openapi.md):
     * whoever registers a service must not make the gateway read other keys with its token.
     */
    openapiPrefix: z.string().regex(/^[^/].*\/$/, 'must end with "/" and not start with "/"').default('mcp/openapi/'),
    /**
     * Where else a service's `mcp-openapi` URL may point besides its own instances (docs/consul.md):
     * the operator's central spec registries. Kept normalised; src/url-prefix.ts says how a URL is
     * matched (parsed scheme, host, port, path on a segment boundary), and why not as text.
     */
    openapiUrls: z.array(urlPrefix).default([]),
    /** KV folder holding `<prefix><name>` = one virtual server as JSON (docs/virtual-servers.md). */
    virtualServerPrefix: z.string().regex(/^[^/].*\/$/, 'must end with "/" and not start with "/"').default('mcp/virtual-servers/'),
    /** Longest a blocking query waits for a change before it is asked again. */
    waitSeconds: z.number().int().min(1).max(600).default(30),
    /** Longest pause between retries while Consul cannot be reached (backoff starts at 250 ms). */
    retryMaxMs: positiveMs.default(5_000),
    /** How long start waits for the first full view of Consul before serving what it has. */
    startTimeoutMs: positiveMs.default(5_000),
    /** Backend settings per Consul service name, applied to the backend the service maps to (docs/consul.md#settings-per-service). */
    services: z.record(z.string().min(1), consulServiceSettings).default({}),
  })
  .strict();

/**
 * Key globs whose values never reach the audit log (matched case-insensitively at any depth):
 * anything that looks like a password, secret, token, API key, credential or private key.
 */
export const DEFAULT_REDACT_KEYS = ['*pass*', '*secret*', '*token*', '*api*key*', '*authorization*', '*credential*', '*private*', '*cookie*'];
/** String values that are secrets whatever their key: bearer credentials and JWTs. */
export const DEFAULT_REDACT_VALUES = ['^(Bearer|Basic)\\s', '^eyJ[A-Za-z0-9_-]*\\.eyJ[A-Za-z0-9_-]*\\.'];

function compiles(pattern: string): boolean {
  try {
    new RegExp(pattern);
    return true;
  } catch {
    return false;
  }
}

/** The audit trail (docs/observability.md): one JSON line per tools/call and per denial. */
const auditSchema = z
  .object({
    /** `stdout` (JSON lines beside the logs), `file` (JSON lines appended to `file`) or `off`. */
    sink: z.enum(['stdout', 'file', 'off']).default('stdout'),
    file: z.string().min(1).optional(),
    /** Longest an event waits in memory before it is written (events are written in batches); 0 writes each at once. */
    flushIntervalMs: z.number().int().min(0).max(10_000).default(200),
    /** Events held in memory while the sink is slow; beyond it events are dropped and counted. */
    maxBufferBytes: z.number().int().min(65_536).default(16 * 1024 * 1024),
    redact: z
      .object({
        /** Include (redacted) call arguments in events; `false` keeps only their top-level key names. */
        includeArguments: z.boolean().default(true),
        keys: z.array(z.string().min(1)).default(DEFAULT_REDACT_KEYS),
        /** Regular expressions; a string value matching one is redacted wherever it is. */
        values: z.array(z.string().min(1).refine(compiles, 'must be a valid regular expression')).default(DEFAULT_REDACT_VALUES),
        /** Longer string values are cut to this many characters. */
        maxStringLength: z.number().int().min(16).default(1_024),
      })
      .strict()
      .prefault({}),
  })
  .strict()
  .refine((a) => a.sink !== 'file' || a.file !== undefined, { message: 'needs "file" when sink is "file"', path: ['file'] })
  .prefault({});

/** How much of each SSE stream is kept for clients that reconnect, and where. */
const eventsSchema = z
  .object({
    /**
     * `memory`: this process only; `hazelcast`: any instance of the cluster replays; `off`: no
     * event ids, nothing kept, a disconnect cancels the call. Default: as `sessions.store`.
     */
    store: z.enum(['off', 'memory', 'hazelcast']).optional(),
    maxEventsPerStream: z.number().int().min(1).default(1_000),
    maxBytesPerStream: z.number().int().min(1).default(1_048_576),
    maxAgeSeconds: z.number().int().positive().default(300),
    /** Memory store: most bytes of all streams together; the least recently written are forgotten first. */
    maxTotalBytes: z.number().int().min(1).default(67_108_864),
    /** `retry` of priming events: how long a 2025-11-25 client waits before it reconnects. */
    retryMs: z.number().int().min(0).default(1_000),
    /** The IMap of stream windows (the cluster is `sessions.hazelcast`'s). */
    hazelcastMapName: z.string().min(1).default('mcp-gateway-events'),
  })
  .strict()
  .prefault({});

export const configSchema = z
  .object({
    server: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).default(8080),
        path: z.string().startsWith('/').default('/mcp'),
        /** Allowed browser origins (exact, or with `*` wildcards); requests without Origin are allowed. */
        allowedOrigins: z.array(z.string()).default(['http://localhost:*', 'http://127.0.0.1:*', 'http://[::1]:*']),
        /**
         * Host names clients may address the gateway by (the `Host` header, port ignored; `*` wildcards,
         * `["*"]` for any). Default: loopback names when `host` is a loopback address, any host otherwise.
         */
        allowedHosts: z.array(z.string().min(1)).min(1).optional(),
        maxBodyBytes: z.number().int().positive().default(1_048_576),
        /** Most messages in one JSON-RPC batch (2025-03-26 sessions only); more get 400 -32600. */
        maxBatchSize: z.number().int().min(1).max(1_000).default(32),
        /** Deepest nesting of objects and arrays in a message; deeper ones get 400 before they are parsed. */
        maxJsonDepth: z.number().int().min(8).max(1_000).default(64),
        keepAliveIntervalMs: positiveMs.default(15_000),
        /** Longest a client may take to send a request's headers, counted from the connection (slowloris). */
        headersTimeoutMs: positiveMs.default(10_000),
        /** Longest a client may take to send a whole request, body included. Streams answering it are not limited. */
        requestTimeoutMs: positiveMs.default(30_000),
        /** On SIGTERM, how long running calls may go on before they are cut; new requests are refused meanwhile. */
        shutdownGraceMs: z.number().int().min(0).default(10_000),
        /** How long an idle kept-alive connection stays open between requests (above common load balancer idle timeouts). */
        keepAliveTimeoutMs: positiveMs.default(65_000),
      })
      .strict()
      .refine((s) => s.headersTimeoutMs <= s.requestTimeoutMs, { message: 'must not exceed requestTimeoutMs', path: ['headersTimeoutMs'] })
      .prefault({}),
    /**
     * The admin listener: `/healthz` and metrics, apart from the MCP endpoint. Always used in the
     * Envoy topology (a free port when `port` is absent); a standalone gateway without `port`
     * serves them on its MCP listener.
     */
    admin: z
      .object({
        host: z.string().default('127.0.0.1'),
        port: z.number().int().min(0).max(65535).optional(),
        /** As `server.allowedHosts`, for the admin listener. */
        allowedHosts: z.array(z.string().min(1)).min(1).optional(),
      })
      .strict()
      .prefault({}),
    sessions: z
      .object({
        /** `memory`: one process; `hazelcast`: shared by every gateway instance of a Hazelcast cluster. */
        store: z.enum(['memory', 'hazelcast']).default('memory'),
        /** Most sessions one principal holds on one gateway instance (anonymous callers: one client address); more get 429. */
        maxPerPrincipal: z.number().int().min(1).default(64),
        /** Most bytes of clientInfo and capabilities (JSON, together) a session keeps; a larger initialize gets -32602. */
        maxClientInfoBytes: z.number().int().min(1_024).max(1_048_576).default(16_384),
        /** Most GET streams one session holds open at once; more get 429. */
        maxStreamsPerSession: z.number().int().min(1).default(4),
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
    /** SSE event ids and the event store behind `Last-Event-ID` resumption (docs/configuration.md `events`). */
    events: eventsSchema,
    /** Stateless (2026-07-28) clients (docs/protocol-eras.md). */
    stateless: z
      .object({
        /** `ttlMs` of discover, list and read results: how long a client may reuse them without asking again. */
        cacheTtlMs: z.number().int().min(0).max(86_400_000).default(60_000),
        /** Longest a `requestState` (MRTR) is good for; the backend's call timeout may end it sooner. */
        requestStateTtlMs: positiveMs.default(300_000),
        /**
         * How long after a session-era backend's request to a stateless client more of its requests
         * join the same `input_required` (a backend asking several things at once); 0: one per round.
         */
        inputSettleMs: z.number().int().min(0).max(5_000).default(50),
        /**
         * The secret (at least 32 bytes) every instance derives the `requestState` and held-record keys
         * from, by reference: `{ env: NAME }` or `{ file: path }`. Absent: a random key per process,
         * right for one instance only.
         */
        stateKey: z.union([z.object({ env: z.string().min(1) }).strict(), z.object({ file: z.string().min(1) }).strict()]).optional(),
        /** `instructions` of the discover result. */
        instructions: z.string().max(16_384).optional(),
        /**
         * Serve the tasks extension to anonymous stateless callers (no `auth`). They share one
         * held record, so any of them that learns a task id can read, answer or cancel that task:
         * only for a gateway whose clients all trust each other (a laptop, a test rig). Default off.
         */
        anonymousTasks: z.boolean().default(false),
      })
      .strict()
      .prefault({}),
    catalog: z
      .object({
        pageSize: z.number().int().min(1).max(10_000).default(500),
        separator: z.string().regex(/^[_.-]{1,2}$/).default('_'),
        /** How often native MCP backends are asked for their tools. */
        refreshIntervalMs: positiveMs.default(60_000),
        /** Discover backends in Consul too; absent: only the configured `backends`. */
        consul: consulSource.optional(),
      })
      .strict()
      .prefault({}),
    upstream: z
      .object({
        timeoutMs: positiveMs.default(30_000),
        connectTimeoutMs: positiveMs.default(2_000),
        /** How long a failing instance is tried only after healthy ones. */
        cooldownMs: positiveMs.default(10_000),
        /** Most exchanged tokens kept (per caller token and backend, docs/token-exchange.md); the least recently used go first. */
        tokenExchangeCacheEntries: z.number().int().min(1).default(10_000),
      })
      .strict()
      .prefault({}),
    auth: z
      .object({
        /** OIDC issuer; its discovery document names the JWKS used to verify tokens. */
        issuer: httpUrl,
        /** This gateway's resource identifier: tokens must name it in `aud` (RFC 8707 audience binding). */
        audience: z.string().min(1),
        /** Public URL of the MCP endpoint for the protected-resource metadata; defaults to the request's host + path. */
        resource: httpUrl.optional(),
        algorithms: z.array(z.enum(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'])).min(1).default(['RS256', 'PS256', 'ES256', 'EdDSA']),
        clockToleranceSeconds: z.number().int().min(0).max(300).default(30),
        /** Scopes every request needs. */
        requiredScopes: z.array(z.string().min(1)).default([]),
        scopesSupported: z.array(z.string().min(1)).default([]),
        /** Dotted path of the claim holding roles, e.g. `realm_access.roles` for Keycloak. */
        rolesClaim: z.string().min(1).default('roles'),
        maxTokenBytes: z.number().int().min(256).max(65_536).default(8_192),
        /** Shortest time between two JWKS fetches; a token with an unknown key id triggers one (key rotation). */
        jwksCooldownMs: z.number().int().min(0).default(30_000),
        /**
         * Accepted JWT `typ` header values (case-insensitive, `application/` optional); tokens without
         * `typ` are accepted. RFC 9068 access tokens say `at+jwt`; Keycloak and others say `JWT`.
         */
        tokenTypes: z.array(z.string().min(1)).min(1).default(['at+jwt', 'JWT']),
        /** How often the JWKS is fetched again: cached verifications of tokens whose key was withdrawn end then. */
        jwksRefreshMs: z.number().int().min(100).default(300_000),
      })
      .strict()
      .optional(),
    policy: z
      .discriminatedUnion('engine', [
        z.object({ engine: z.literal('allow-all') }).strict(),
        z
          .object({
            engine: z.literal('rules'),
            /** A call to a tool or prompt the caller may not see is answered as if it did not exist (no enumeration by probing). */
            hideUnlisted: z.boolean().default(true),
            /** First rule whose glob for the kind asked about (tools, resource URIs, prompts) matches decides; no matching rule denies. */
            rules: z
              .array(
                z
                  .object({
                    tools: z.array(z.string().min(1)).default([]),
                    /** Globs over resource URIs (as clients see them, namespaced) and URI templates. */
                    resources: z.array(z.string().min(1)).default([]),
                    prompts: z.array(z.string().min(1)).default([]),
                    /** Globs over methods of backend requests to the client (`sampling/createMessage`, `elicitation/create`, `roots/list`); unnamed ones are allowed. */
                    relays: z.array(z.string().min(1)).default([]),
                    allow: z.union([
                      z.literal('anyone'),
                      z.literal('nobody'),
                      z.object({ roles: z.array(z.string()), scopes: z.array(z.string()), subjects: z.array(z.string()), clients: z.array(z.string()) }).partial().strict(),
                    ]),
                    /** Tool calls this rule allows need the user's confirmation first, when its conditions hold (docs/confirmation.md). */
                    confirm: confirmRuleSchema.optional(),
                  })
                  .strict()
                  .refine((r) => r.tools.length + r.resources.length + r.prompts.length + r.relays.length > 0, { message: 'needs at least one of tools, resources, prompts, relays' }),
              )
              .min(1),
          })
          .strict(),
        z
          .object({
            engine: z.literal('opa'),
            /** A call to a tool or prompt the caller may not see is answered as if it did not exist (no enumeration by probing). */
            hideUnlisted: z.boolean().default(true),
            url: httpUrl,
            /** Rule returning {allow, reason} for one call. */
            decisionPath: z.string().default('mcp/gateway/decision'),
            /** Rule returning the names of the tools a caller may see. */
            visiblePath: z.string().default('mcp/gateway/visible_tools'),
            /** Rego files loaded into OPA at start (global policy, package mcp.policy, and data). */
            policyFiles: z.array(z.string()).default([]),
            /** Per-service Rego snippets: each must be `package mcp.services.<service>`. */
            servicePolicies: z.record(z.string(), z.string()).default({}),
            timeoutMs: positiveMs.default(1_000),
            /** How often the gateway checks that OPA still holds its policies (push: and loads them again after an OPA restart). */
            checkIntervalMs: positiveMs.default(5_000),
            /**
             * How the gateway's Rego reaches OPA: `push` (loaded over OPA's REST API), or `bundle`
             * (served as an OPA bundle that OPA, configured with `services`/`bundles`, fetches; docs/opa-bundle.md).
             */
            delivery: z.enum(['push', 'bundle']).default('push'),
            bundle: z
              .object({
                /** Where the admin endpoints serve the bundle (the admin listener, or the MCP listener of a standalone gateway without one). */
                path: z.string().regex(/^\/[^?#\s]*$/, 'must be a path starting with "/"').default('/policy/bundle.tar.gz'),
                /** The bundle's name in OPA's `bundles` configuration: readiness reads the revision OPA holds under it. */
                name: z.string().min(1).default('mcp-gateway'),
                /** Bearer token OPA must send (its `services.<name>.credentials.bearer.token`); absent: anyone who reaches the listener may fetch it. */
                token: z.string().min(16, 'must be at least 16 characters').optional(),
              })
              .strict()
              .prefault({}),
            /** How long a caller's filtered tools/list stays cached (per principal and catalog version). */
            listCacheMs: z.number().int().min(0).default(5_000),
          })
          .strict(),
      ])
      .default({ engine: 'allow-all' }),
    audit: auditSchema,
    metrics: z
      .object({
        /** Serve Prometheus metrics at `path` on the gateway's listener. */
        enabled: z.boolean().default(true),
        path: z.string().startsWith('/').default('/metrics'),
        /** Node.js process and runtime metrics (CPU, memory, event loop lag, GC, handles) beside the gateway's, prefixed `mcp_gateway_`. */
        processMetrics: z.boolean().default(true),
      })
      .strict()
      .prefault({}),
    /** Traces (docs/opentelemetry.md): without `otlp`, spans are recorded only by an SDK registered before the gateway starts. */
    tracing: z
      .object({
        /** Export spans over OTLP with the gateway's own OpenTelemetry SDK. */
        otlp: z
          .object({
            /** The collector's OTLP/HTTP base URL (as OTEL_EXPORTER_OTLP_ENDPOINT): spans go to `<endpoint>/v1/traces`. */
            endpoint: httpUrl,
            /** The only one the gateway speaks; written down so a configuration says what it expects. */
            protocol: z.literal('http/protobuf').default('http/protobuf'),
            /** Sent with every export, e.g. `authorization` for a hosted backend. */
            headers: z.record(z.string().min(1), z.string()).default({}),
            /** Longest one export may take (also bounds the flush at shutdown). */
            timeoutMs: positiveMs.default(10_000),
          })
          .strict()
          .optional(),
        /** `service.name` of the spans' resource. */
        serviceName: z.string().min(1).default('mcp-gateway'),
        /** Share of new traces recorded (0–1); a request whose caller sampled (or not) its trace follows the caller. */
        samplingRatio: z.number().min(0).max(1).default(1),
      })
      .strict()
      .prefault({}),
    logging: z
      .object({ level: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info') })
      .strict()
      .prefault({}),
    /** Pinned tool and prompt definitions (docs/tool-pinning.md). */
    pinning: pinningSchema,
    /** Human confirmation of tool calls a policy asks to confirm (docs/confirmation.md). */
    confirmation: confirmationSchema,
    backends: z.array(backendSchema).default([]),
    /** Named endpoints `<server.path>/<name>` serving a curated part of the catalog (docs/virtual-servers.md). */
    virtualServers: virtualServersSchema,
  })
  .strict()
  .refine((c) => c.catalog.consul !== undefined || !c.backends.some((b) => b.kind === 'rest' && b.openapi?.consulKey !== undefined), {
    message: 'a backend reads its OpenAPI document from Consul (openapi.consulKey): set catalog.consul',
    path: ['backends'],
  })
  .superRefine((c, ctx) => {
    // Without authentication there is no caller token to exchange.
    if (c.auth) return;
    const message = 'token exchange needs "auth" (a caller token to exchange)';
    c.backends.forEach((b, i) => {
      if (b.credentials.type === 'oauth2-token-exchange') ctx.addIssue({ code: 'custom', message, path: ['backends', i, 'credentials', 'type'] });
    });
    for (const [name, s] of Object.entries(c.catalog.consul?.services ?? {})) {
      if (s.credentials?.type === 'oauth2-token-exchange') ctx.addIssue({ code: 'custom', message, path: ['catalog', 'consul', 'services', name, 'credentials', 'type'] });
    }
  })
  .refine((c) => !['/healthz', '/livez', '/readyz'].includes(c.server.path), { message: 'must differ from /healthz, /livez and /readyz (the operator endpoints)', path: ['server', 'path'] })
  .superRefine((c, ctx) => {
    // At the root, a virtual server is `/<name>`: one named like the metrics path would lose it (or take it).
    if (c.server.path !== '/' || !c.metrics.enabled) return;
    c.virtualServers.forEach((v, i) => {
      if (`/${v.name}` === c.metrics.path) ctx.addIssue({ code: 'custom', message: `is metrics.path (${c.metrics.path}) with server.path "/"`, path: ['virtualServers', i, 'name'] });
    });
  })
  .refine((c) => !c.metrics.enabled || (c.metrics.path !== c.server.path && !['/healthz', '/livez', '/readyz'].includes(c.metrics.path)), {
    message: 'must differ from server.path, /healthz, /livez and /readyz',
    path: ['metrics', 'path'],
  })
  .refine((c) => c.auth !== undefined || (c.pinning.mode !== 'manual' && !backendPinnings(c).some((p) => p?.mode === 'manual')), {
    message: 'manual approval needs "auth": approvals are made with a bearer token carrying pinning.adminScope',
    path: ['pinning', 'mode'],
  })
  .refine((c) => c.pinning.store !== 'consul' || c.catalog.consul !== undefined, { message: 'needs catalog.consul (the store uses its Consul)', path: ['pinning', 'store'] })
  .refine((c) => c.policy.engine !== 'opa' || c.policy.delivery !== 'bundle' || ![c.server.path, c.metrics.path, '/healthz', '/livez', '/readyz'].includes(c.policy.bundle.path), {
    message: 'must differ from server.path, metrics.path, /healthz, /livez and /readyz',
    path: ['policy', 'bundle', 'path'],
  });

export type GatewayConfig = z.output<typeof configSchema>;

/** Every per-backend pinning override: of configured backends and of Consul services by name. */
export function backendPinnings(c: { readonly backends: readonly BackendConfig[]; readonly catalog: { readonly consul?: ConsulSourceConfig | undefined } }): Array<BackendPinningConfig | undefined> {
  return [...c.backends.map((b) => b.pinning), ...Object.values(c.catalog.consul?.services ?? {}).map((s) => s.pinning)];
}
export type ConsulSourceConfig = z.output<typeof consulSource>;
export type ConsulServiceSettings = z.output<typeof consulServiceSettings>;
export type { BackendPinningConfig, DriftAction, PinningConfig, PinningMode } from './pinning-schema.js';
