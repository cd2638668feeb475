import type { RestBackendConfig } from '../config/schema.js';
import { definedOnly, type BackendDescriptor, type CatalogPrompt, type CatalogResource, type CatalogTemplate, type PromptDefinition, type Published, type ResourceDefinition } from './model.js';
import { describeCollision, exposedName, findCollisions, prefixOf } from './naming.js';
import type { UriRouter, UriRoutes } from './uri-router.js';
import { exposedUri, literalPrefix, schemeOf } from './uris.js';

/** Resources, templates and prompts of one snapshot, with what routes URIs and what went wrong. */
export interface PublishedEntries {
  readonly resources: ReadonlyMap<string, CatalogResource>;
  readonly templates: ReadonlyMap<string, CatalogTemplate>;
  readonly prompts: ReadonlyMap<string, CatalogPrompt>;
  readonly routes: UriRoutes;
  /** Routes URIs instead of a router built from `routes` (a virtual server's narrower view). */
  readonly router?: UriRouter;
  /** Backends whose answers name resources under a namespace: they must pass the gateway to be rewritten. */
  readonly rewritten: ReadonlySet<string>;
  readonly problems: readonly string[];
}

/**
 * Namespace what backends publish besides tools (native backends through their lists, REST
 * backends in their configuration): prompt names like tool names, URIs and
 * URI templates by prefix (src/catalog/uris.ts). Colliding entries are left out and reported;
 * so are prefixes two backends share and schemes two unprefixed backends claim (unlisted URIs of
 * those cannot be routed). Nothing is resolved silently.
 */
export function buildPublished(backends: readonly BackendDescriptor[], published: ReadonlyMap<string, Published>, separator: string): PublishedEntries {
  const problems: string[] = [];
  const resources: CatalogResource[] = [];
  const templates: CatalogTemplate[] = [];
  const prompts: CatalogPrompt[] = [];
  const prefixOwners: Array<{ name: string; owner: string; backend: string }> = [];
  const schemeOwners = new Map<string, Set<string>>();
  const unprefixed = new Set<string>();
  const rewritten = new Set<string>();
  for (const b of backends) {
    const p = b.kind === 'mcp' ? published.get(b.name) : declared(b);
    // A native backend may serve URIs it never listed; a REST backend only those it declares.
    const servesUris = b.kind === 'mcp' || p?.servesResources === true;
    const prefix = prefixOf(b);
    if (servesUris && prefix === '') unprefixed.add(b.name);
    else if (servesUris) prefixOwners.push({ name: prefix, owner: `backend "${b.name}"`, backend: b.name });
    if (!p) continue;
    if (p.servesResources && prefix !== '') rewritten.add(b.name);
    const claim = (uri: string): void => {
      const scheme = schemeOf(uri);
      // Only a native backend serves URIs it did not list, so only it claims their scheme.
      if (prefix !== '' || scheme === undefined || b.kind !== 'mcp') return;
      const owners = schemeOwners.get(scheme) ?? new Set<string>();
      owners.add(b.name);
      schemeOwners.set(scheme, owners);
    };
    for (const r of p.resources) {
      const uri = exposedUri(prefix, r.uri);
      resources.push({ uri, upstreamUri: r.uri, backend: b.name, definition: { ...r, uri } });
      claim(r.uri);
    }
    for (const t of p.resourceTemplates) {
      const uriTemplate = exposedUri(prefix, t.uriTemplate);
      templates.push({ uriTemplate, upstreamTemplate: t.uriTemplate, backend: b.name, definition: { ...t, uriTemplate }, literalPrefix: literalPrefix(uriTemplate) });
      claim(t.uriTemplate);
    }
    for (const pr of p.prompts) {
      const name = exposedName(b, pr.name, separator);
      prompts.push({ name, upstreamName: pr.name, backend: b.name, definition: { ...pr, name } });
    }
  }
  const byPrefix = new Map<string, string>();
  const shared = findCollisions(prefixOwners);
  for (const c of shared) problems.push(`${describeCollision(c, 'URI prefix')} (their namespaced URIs cannot be routed)`);
  for (const { name, backend } of prefixOwners) if (!shared.some((c) => c.name === name)) byPrefix.set(name, backend);
  const schemes = new Map<string, string>();
  for (const [scheme, owners] of schemeOwners) {
    if (owners.size === 1) schemes.set(scheme, [...owners][0]!);
    else problems.push(`URI scheme "${scheme}" is claimed by ${[...owners].map((o) => `backend "${o}"`).join(' and ')}, which keep their URIs unchanged (prefix ""); unlisted URIs of that scheme cannot be routed; give one backend a prefix`);
  }
  const resourceMap = unique(resources, (r) => r.uri, (r) => `backend "${r.backend}" (resource "${r.upstreamUri}")`, 'resource URI', problems);
  const templateMap = unique(templates, (t) => t.uriTemplate, (t) => `backend "${t.backend}" (template "${t.upstreamTemplate}")`, 'resource template', problems);
  const promptMap = unique(prompts, (p) => p.name, (p) => `backend "${p.backend}" (prompt "${p.upstreamName}")`, 'prompt name', problems);
  return {
    resources: resourceMap,
    templates: templateMap,
    prompts: promptMap,
    routes: { resources: resourceMap, templates: [...templateMap.values()], byPrefix, unprefixed, schemes },
    rewritten,
    problems,
  };
}

/** What a REST backend's configuration declares besides tools, as a native backend would publish it. */
function declared(b: RestBackendConfig): Published {
  return {
    servesResources: b.resources.length > 0,
    tools: [],
    resources: b.resources.map(({ http: _http, ...r }) => definedOnly(r) as ResourceDefinition),
    resourceTemplates: [],
    prompts: b.prompts.map(({ messages: _messages, ...p }) => definedOnly(p) as PromptDefinition),
  };
}

/** Entries by key, without any key claimed more than once (those are reported). */
function unique<T>(items: readonly T[], keyOf: (t: T) => string, ownerOf: (t: T) => string, what: string, problems: string[]): Map<string, T> {
  const collisions = findCollisions(items.map((t) => ({ name: keyOf(t), owner: ownerOf(t) })));
  const clashing = new Set(collisions.map((c) => c.name));
  for (const c of collisions) problems.push(describeCollision(c, what));
  const out = new Map<string, T>();
  for (const t of items) if (!clashing.has(keyOf(t))) out.set(keyOf(t), t);
  return out;
}
