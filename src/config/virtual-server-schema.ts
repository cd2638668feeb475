/**
 * Virtual servers in the configuration (docs/virtual-servers.md): named endpoints `/mcp/<name>`
 * that each serve a curated part of the catalog. The same schema reads a Consul KV value
 * (`<virtualServerPrefix><name>`), so YAML and Consul agree on what is valid.
 */
import { z } from 'zod';

/** The name `default` configures `/mcp` itself; others are one URL path segment. */
export const DEFAULT_SERVER = 'default';

/** A safe URL path segment: no `/`, `%`, dots-only names or anything a client would have to escape. */
const SERVER_NAME = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/**
 * The operator endpoints' names: every MCP listener answers `/livez` (Envoy health-checks the
 * broker on it), and one without an admin port `/healthz` and `/readyz`; with `server.path: /` a
 * server of such a name would be that path itself, and lose it.
 */
export const RESERVED_NAMES: ReadonlySet<string> = new Set(['livez', 'healthz', 'readyz']);
export const serverName = z
  .string()
  .regex(SERVER_NAME, 'must be 1-63 characters of a-z 0-9 _ - starting with a letter or digit (one URL path segment)')
  .refine((n) => !RESERVED_NAMES.has(n), 'is reserved (the operator endpoints /livez, /healthz, /readyz)');

/** The name a rename gives a tool or prompt: what MCP clients accept (SEP-986 charset). */
const exposedName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'must be 1-128 characters of A-Z a-z 0-9 _ . -');

/** The listings a rule may select from. */
export const SELECTABLE = ['tools', 'resources', 'resourceTemplates', 'prompts'] as const;

/**
 * One selection rule: every key given must match (an empty rule selects everything); within a
 * key, any one value is enough. Names are `*` globs over a tool's or prompt's catalog name, a
 * resource's URI and a template's URI template.
 */
const selectRule = z
  .object({
    kinds: z.array(z.enum(SELECTABLE)).min(1).optional(),
    backends: z.array(z.string().min(1)).min(1).optional(),
    names: z.array(z.string().min(1)).min(1).optional(),
    tags: z.array(z.string().min(1)).min(1).optional(),
    /** Annotations an entry must have with exactly these values, e.g. `{ readOnlyHint: true }`. */
    annotations: z.record(z.string(), z.union([z.boolean(), z.number(), z.string()])).optional(),
  })
  .strict();

export type SelectRule = z.output<typeof selectRule>;

/** One virtual server, as YAML lists it (Consul's value is the same object; its key names it). */
export const virtualServerSchema = z
  .object({
    name: serverName,
    /** The `instructions` of the initialize result on this endpoint. */
    instructions: z.string().min(1).max(16_384).optional(),
    /** One rule or a list of rules: an entry is served when any rule selects it. */
    select: z.union([selectRule, z.array(selectRule).min(1)]).transform((s) => (Array.isArray(s) ? s : [s])),
    /** Catalog name of a tool or prompt → the name this endpoint shows and takes. */
    rename: z.record(z.string().min(1), exposedName).default({}),
    /** Catalog name of a tool or prompt (or a resource URI) → the description this endpoint shows. */
    descriptions: z.record(z.string().min(1), z.string().min(1)).default({}),
    /** Scopes a token needs on this endpoint, besides `auth.requiredScopes`. */
    scopes: z.array(z.string().min(1)).default([]),
  })
  .strict()
  .superRefine((vs, ctx) => {
    // Two entries renamed to one name would make calls ambiguous: refused here, naming both.
    const byTarget = new Map<string, string>();
    for (const [from, to] of Object.entries(vs.rename)) {
      const first = byTarget.get(to);
      if (first !== undefined) ctx.addIssue({ code: 'custom', path: ['rename', from], message: `renames to "${to}", as "${first}" does; give one another name` });
      else byTarget.set(to, from);
    }
  });

export type VirtualServerConfig = z.output<typeof virtualServerSchema>;

/** The `virtualServers` list: names unique. */
export const virtualServersSchema = z
  .array(virtualServerSchema)
  .default([])
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    for (const [i, vs] of list.entries()) {
      if (seen.has(vs.name)) ctx.addIssue({ code: 'custom', path: [i, 'name'], message: `"${vs.name}" is configured twice` });
      seen.add(vs.name);
    }
  });
