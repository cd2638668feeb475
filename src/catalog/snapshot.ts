import type { RestToolConfig } from '../config/schema.js';
import type { ListKind } from '../mcp/methods.js';
import { compileArgumentCheck, type ArgumentCheck } from './validation.js';
import { definedOnly, type BackendDescriptor, type CatalogPrompt, type CatalogResource, type CatalogTemplate, type CatalogTool, type PromptDefinition, type Published, type ToolDefinition } from './model.js';
import { describeCollision, exposedName, findCollisions, MAX_TOOL_NAME } from './naming.js';
import { Pager, type Listing, type Page } from './pager.js';
import { buildPublished, type PublishedEntries } from './published.js';
import { UriRouter } from './uri-router.js';
import { unreviewed, type PinCandidate, type PinReview } from '../pinning/review.js';
import { declaredParamHeaders, type ParamHeader } from '../mcp/header-values.js';

export { InvalidCursorError } from './pager.js';

/** The pagers of the four aggregated listings. */
export interface Listings {
  readonly tools: Pager<CatalogTool>;
  readonly resources: Pager<CatalogResource>;
  readonly resourceTemplates: Pager<CatalogTemplate>;
  readonly prompts: Pager<CatalogPrompt>;
}

/** How each listing sorts and shows its entries. */
export const LISTINGS: { readonly [K in ListKind]: Listing<Listings[K] extends Pager<infer T> ? T : never> } = {
  tools: { list: 'tools', keyOf: (t) => t.name, definitionOf: (t) => t.definition },
  resources: { list: 'resources', keyOf: (r) => r.uri, definitionOf: (r) => r.definition },
  resourceTemplates: { list: 'resourceTemplates', keyOf: (t) => t.uriTemplate, definitionOf: (t) => t.definition },
  prompts: { list: 'prompts', keyOf: (p) => p.name, definitionOf: (p) => p.definition },
};

const NOTHING_PUBLISHED: PublishedEntries = buildPublished([], new Map(), '_');

/**
 * An immutable view of the catalog. Hot paths read it without locks; changes build a new one.
 * Problems (collisions, unusable tools) are kept so operators can see them, never resolved silently.
 */
export class CatalogSnapshot {
  readonly sorted: readonly CatalogTool[];
  readonly pager: Pager<CatalogTool>;
  readonly lists: Listings;
  readonly resources: ReadonlyMap<string, CatalogResource>;
  readonly templates: ReadonlyMap<string, CatalogTemplate>;
  readonly prompts: ReadonlyMap<string, CatalogPrompt>;
  /** Routes any URI a client names (listed, namespaced, or of a template) to its backend. */
  readonly uris: UriRouter;
  /**
   * Native backends whose answers name resources under a namespaced URI (src/catalog/uris.ts):
   * their tool results must pass through the gateway to be rewritten, not go straight to the client.
   */
  readonly rewritesUris: ReadonlySet<string>;
  private readonly checks = new Map<string, ArgumentCheck | null>();
  private readonly paramHeaderLists = new Map<string, readonly ParamHeader[]>();

  constructor(
    readonly version: number,
    readonly tools: ReadonlyMap<string, CatalogTool>,
    readonly backends: ReadonlyMap<string, BackendDescriptor>,
    readonly problems: readonly string[],
    readonly pageSize: number,
    published: PublishedEntries = NOTHING_PUBLISHED,
  ) {
    this.pager = Pager.of(LISTINGS.tools, tools.values(), pageSize);
    this.sorted = this.pager.sorted;
    this.resources = published.resources;
    this.templates = published.templates;
    this.prompts = published.prompts;
    this.uris = published.router ?? new UriRouter(published.routes);
    this.rewritesUris = published.rewritten;
    this.lists = {
      tools: this.pager,
      resources: Pager.of(LISTINGS.resources, published.resources.values(), pageSize),
      resourceTemplates: Pager.of(LISTINGS.resourceTemplates, published.templates.values(), pageSize),
      prompts: Pager.of(LISTINGS.prompts, published.prompts.values(), pageSize),
    };
  }

  /** One page of the whole tool listing (see {@link Pager}). */
  page(cursor: string | undefined): Page<CatalogTool> {
    return this.pager.page(cursor);
  }

  /** The argument check for a tool, compiled on first use; `null` when its schema could not be compiled. */
  argumentCheck(tool: CatalogTool): ArgumentCheck | null {
    let check = this.checks.get(tool.name);
    if (check === undefined) {
      try {
        check = compileArgumentCheck(tool.definition.inputSchema);
      } catch {
        check = null;
      }
      this.checks.set(tool.name, check);
    }
    return check;
  }

  /** A tool's `x-mcp-header` declarations, read from its schema on first use: every stateless call of it checks them. */
  paramHeaders(tool: CatalogTool): readonly ParamHeader[] {
    let declared = this.paramHeaderLists.get(tool.name);
    if (declared === undefined) this.paramHeaderLists.set(tool.name, (declared = declaredParamHeaders(tool.definition.inputSchema)));
    return declared;
  }
}

/** Inputs of a snapshot build. */
export interface BuildInput {
  readonly version: number;
  readonly backends: readonly BackendDescriptor[];
  /** Tools published by native MCP backends, by backend name (absent: not discovered yet). */
  readonly discovered: ReadonlyMap<string, readonly ToolDefinition[]>;
  /** Tools REST backends' OpenAPI documents gave (src/catalog/openapi/), by backend name, after their configured tools. */
  readonly imported?: ReadonlyMap<string, readonly RestToolConfig[]>;
  /** Resources, templates and prompts native MCP backends publish, by backend name. */
  readonly published?: ReadonlyMap<string, Published>;
  readonly separator: string;
  readonly pageSize: number;
  /** Problems found before the build (a source's unusable entries), listed first. */
  readonly problems?: readonly string[];
  /** Pinned definitions (src/pinning/): which tools and prompts are served, and in which version. */
  readonly pins?: PinReview;
}

/** Combine configured and discovered tools into a snapshot; colliding names are left out and reported. */
export function buildSnapshot(input: BuildInput): CatalogSnapshot {
  const problems: string[] = [...(input.problems ?? [])];
  const pinned: PinCandidate<CatalogTool>[] = [];
  const backends = new Map<string, BackendDescriptor>();
  for (const b of input.backends) {
    backends.set(b.name, b);
    const pin = { kind: 'tool', backend: b.name, overrides: b.pinning } as const;
    if (b.kind === 'rest') {
      for (const t of [...b.tools, ...(input.imported?.get(b.name) ?? [])]) {
        pinned.push({ ...pin, name: t.name, subject: t, build: (s) => restTool(b.name, s as RestToolConfig, exposedName(b, t.name, input.separator)) });
      }
    } else {
      const needs = input.published?.get(b.name)?.toolNeeds;
      for (const t of input.discovered.get(b.name) ?? []) {
        pinned.push({ ...pin, name: t.name, subject: t, build: (s) => nativeTool(b.name, s as ToolDefinition, exposedName(b, t.name, input.separator), needs?.get(t.name)) });
      }
    }
  }
  const candidates = input.pins ? input.pins.review(pinned) : unreviewed(pinned);
  const collisions = findCollisions(candidates.map((t) => ({ name: t.name, owner: `backend "${t.backend}" (tool "${t.upstreamName}")` })));
  const clashing = new Set(collisions.map((c) => c.name));
  for (const c of collisions) problems.push(describeCollision(c));
  const tools = new Map<string, CatalogTool>();
  for (const t of candidates) {
    if (clashing.has(t.name)) continue;
    if (t.name.length > MAX_TOOL_NAME) {
      problems.push(`tool "${t.name}" of backend "${t.backend}" is longer than ${MAX_TOOL_NAME} characters and is left out`);
      continue;
    }
    tools.set(t.name, t);
  }
  const published = buildPublished(input.backends, pinnedPrompts(input), input.separator);
  problems.push(...published.problems);
  return new CatalogSnapshot(input.version, tools, backends, problems, input.pageSize, published);
}

/** A configured (or Consul KV) REST tool as the catalog serves it. */
function restTool(backend: string, t: RestToolConfig, name: string): CatalogTool {
  const { http, timeoutMs, name: upstreamName, tags, ...rest } = t;
  const definition = { ...definedOnly(rest), name } as ToolDefinition;
  return { name, upstreamName, backend, definition, route: timeoutMs === undefined ? { kind: 'rest', http } : { kind: 'rest', http, timeoutMs }, tags };
}

/** A native backend's tool as the catalog serves it. */
function nativeTool(backend: string, t: ToolDefinition, name: string, needs: readonly string[] | undefined): CatalogTool {
  return { name, upstreamName: t.name, backend, definition: { ...t, name }, route: { kind: 'mcp' }, tags: metaTags(t), ...(needs?.length ? { needs } : {}) };
}

/**
 * Native backends' prompts as pinning lets them through: a prompt's description and arguments
 * reach the model as a tool's do. REST prompts are written in the gateway's own configuration and
 * are not pinned.
 */
function pinnedPrompts(input: BuildInput): ReadonlyMap<string, Published> {
  const all = input.published ?? new Map<string, Published>();
  const pins = input.pins;
  if (!pins) return all;
  const out = new Map<string, Published>();
  for (const b of input.backends) {
    const p = all.get(b.name);
    if (!p) continue;
    const prompts = pins.review(p.prompts.map((pr) => ({ kind: 'prompt', backend: b.name, name: pr.name, overrides: b.pinning, subject: pr, build: (s) => s as PromptDefinition })));
    out.set(b.name, { ...p, prompts });
  }
  return out;
}

function metaTags(t: ToolDefinition): string[] {
  const tags = (t._meta as { tags?: unknown } | undefined)?.tags;
  return Array.isArray(tags) ? tags.filter((x): x is string => typeof x === 'string') : [];
}
