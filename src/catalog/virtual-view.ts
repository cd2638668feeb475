import { globMatcher } from '../glob.js';
import type { SelectRule, VirtualServerConfig } from '../config/virtual-server-schema.js';
import type { CatalogResource, CatalogTemplate } from './model.js';
import { findCollisions } from './naming.js';
import type { PublishedEntries } from './published.js';
import { CatalogSnapshot } from './snapshot.js';
import { UriRouter, type UriRoutes, type UriTarget } from './uri-router.js';

type Kind = NonNullable<SelectRule['kinds']>[number];

/** What a rule can test of one catalog entry. */
interface Entry {
  readonly kind: Kind;
  /** Tool or prompt catalog name, resource URI, URI template. */
  readonly key: string;
  readonly backend: string;
  readonly tags: readonly string[];
  readonly annotations: Readonly<Record<string, unknown>> | undefined;
}

interface Rule {
  readonly kinds: ReadonlySet<Kind> | undefined;
  readonly backends: ReadonlySet<string> | undefined;
  readonly names: ((name: string) => boolean) | undefined;
  readonly tags: readonly string[] | undefined;
  readonly annotations: Readonly<Record<string, unknown>> | undefined;
}

function compile(r: SelectRule): Rule {
  return {
    kinds: r.kinds && new Set(r.kinds),
    backends: r.backends && new Set(r.backends),
    names: r.names && globMatcher(r.names),
    tags: r.tags,
    annotations: r.annotations,
  };
}

function matches(r: Rule, e: Entry): boolean {
  if (r.kinds && !r.kinds.has(e.kind)) return false;
  if (r.backends && !r.backends.has(e.backend)) return false;
  if (r.names && !r.names(e.key)) return false;
  if (r.tags && !r.tags.some((t) => e.tags.includes(t))) return false;
  if (r.annotations && !Object.entries(r.annotations).every(([k, v]) => e.annotations?.[k] === v)) return false;
  return true;
}

/**
 * Whether a rule takes every URI of a backend, listed or not (links in tool results, filled-in
 * templates): only a rule that names nothing but the backend (and resources) does.
 */
function takesUnlisted(r: Rule, backend: string): boolean {
  return (!r.kinds || r.kinds.has('resources')) && (!r.backends || r.backends.has(backend)) && !r.names && !r.tags && !r.annotations;
}

/** A router that answers only for what the view serves: everything else is unknown, as a URI nobody serves. */
class ViewRouter extends UriRouter {
  constructor(
    private readonly base: UriRouter,
    routes: UriRoutes,
    private readonly keep: (t: UriTarget) => boolean,
  ) {
    super(routes);
  }

  override resolve(uri: string): UriTarget | undefined {
    const t = this.base.resolve(uri);
    return t && this.keep(t) ? t : undefined;
  }
}

/**
 * The catalog as one virtual server shows it: the entries its rules select, renamed and
 * re-described as it says. A renamed tool keeps its backend's own name (`upstreamName`), so a
 * call reaches the backend unchanged; it remembers its catalog name for policies. Names the
 * renames make collide are left out and reported, like any collision in the catalog. The view
 * shares the base's backends and version: it is rebuilt whenever the base is.
 */
export function buildView(base: CatalogSnapshot, vs: VirtualServerConfig): CatalogSnapshot {
  const rules = vs.select.map(compile);
  const selected = (e: Entry): boolean => rules.some((r) => matches(r, e));
  const described = <D extends object>(key: string, d: D): D => {
    const text = vs.descriptions[key];
    return text === undefined ? d : { ...d, description: text };
  };
  const problems: string[] = [];
  const tools = renamed(
    base.sorted.filter((t) => selected({ kind: 'tools', key: t.name, backend: t.backend, tags: t.tags, annotations: t.definition.annotations })),
    vs,
    'tool',
    problems,
    (t, name) => ({ ...t, name, ...(name === t.name ? {} : { catalogName: t.name }), definition: described(t.name, { ...t.definition, name }) }),
  );
  const prompts = renamed(
    [...base.prompts.values()].filter((p) => selected({ kind: 'prompts', key: p.name, backend: p.backend, tags: [], annotations: undefined })),
    vs,
    'prompt',
    problems,
    (p, name) => ({ ...p, name, ...(name === p.name ? {} : { catalogName: p.name }), definition: described(p.name, { ...p.definition, name }) }),
  );
  const resources = new Map<string, CatalogResource>();
  for (const r of base.resources.values()) {
    if (!selected({ kind: 'resources', key: r.uri, backend: r.backend, tags: [], annotations: annotationsOf(r.definition) })) continue;
    resources.set(r.uri, { ...r, definition: described(r.uri, r.definition) });
  }
  const templates = new Map<string, CatalogTemplate>();
  for (const t of base.templates.values()) {
    if (!selected({ kind: 'resourceTemplates', key: t.uriTemplate, backend: t.backend, tags: [], annotations: annotationsOf(t.definition) })) continue;
    templates.set(t.uriTemplate, { ...t, definition: described(t.uriTemplate, t.definition) });
  }
  const routes: UriRoutes = { resources, templates: [...templates.values()], byPrefix: new Map(), unprefixed: new Set(), schemes: new Map() };
  const keep = (t: UriTarget): boolean => {
    if (t.resource) return resources.has(t.resource.uri);
    if (t.template && templates.has(t.template.uriTemplate)) return true;
    return rules.some((r) => takesUnlisted(r, t.backend));
  };
  const published: PublishedEntries = { resources, templates, prompts, routes, router: new ViewRouter(base.uris, routes, keep), rewritten: base.rewritesUris, problems: [] };
  return new CatalogSnapshot(base.version, tools, base.backends, problems, base.pageSize, published);
}

/**
 * Entries under the names the server shows them by, keyed by that name. Two entries shown
 * under one name (a rename onto a name another entry keeps) are both left out and reported.
 */
function renamed<T extends { readonly name: string; readonly backend: string }>(
  entries: readonly T[],
  vs: VirtualServerConfig,
  what: 'tool' | 'prompt',
  problems: string[],
  as: (entry: T, name: string) => T,
): Map<string, T> {
  const shown = entries.map((e) => as(e, vs.rename[e.name] ?? e.name));
  const owner = (e: T, i: number): string => (entries[i]!.name === e.name ? `${what} "${e.name}"` : `${what} "${entries[i]!.name}" (renamed)`);
  const collisions = findCollisions(shown.map((e, i) => ({ name: e.name, owner: owner(e, i) })));
  for (const c of collisions) problems.push(`virtual server "${vs.name}": ${what} name "${c.name}" is claimed by ${c.owners.join(' and ')}; both are left out; rename one of them`);
  const clashing = new Set(collisions.map((c) => c.name));
  return new Map(shown.filter((e) => !clashing.has(e.name)).map((e) => [e.name, e]));
}

function annotationsOf(d: Readonly<Record<string, unknown>>): Readonly<Record<string, unknown>> | undefined {
  return typeof d.annotations === 'object' && d.annotations !== null ? (d.annotations as Record<string, unknown>) : undefined;
}
