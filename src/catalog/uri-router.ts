import type { CatalogResource, CatalogTemplate } from './model.js';
import { schemeOf, unwrapUri } from './uris.js';

/** Where a URI a client names is served: the backend, its own URI, and what the catalog knows of it. */
export interface UriTarget {
  readonly backend: string;
  readonly upstreamUri: string;
  /** The listed resource, when the URI is one. */
  readonly resource?: CatalogResource;
  /** The template the URI expands, when one matches (the longest literal start wins). */
  readonly template?: CatalogTemplate;
}

/** What the router is built from (src/catalog/published.ts computes it per snapshot). */
export interface UriRoutes {
  readonly resources: ReadonlyMap<string, CatalogResource>;
  readonly templates: readonly CatalogTemplate[];
  /** Non-empty prefixes used by exactly one native backend. */
  readonly byPrefix: ReadonlyMap<string, string>;
  /** Backends with an empty prefix: their URIs are exposed unchanged. */
  readonly unprefixed: ReadonlySet<string>;
  /** URI schemes claimed by exactly one backend with an empty prefix (from its listed URIs and templates). */
  readonly schemes: ReadonlyMap<string, string>;
}

/**
 * Routes a URI to its backend: a listed resource; then a namespaced URI by its prefix
 * (src/catalog/uris.ts), listed or not (links from tool results, filled-in templates); then, for
 * backends that keep their URIs unchanged, a template whose literal start it has, or a scheme
 * only one of them uses. Anything else is unknown (-32002).
 */
export class UriRouter {
  constructor(private readonly routes: UriRoutes) {}

  resolve(uri: string): UriTarget | undefined {
    const { resources, byPrefix, unprefixed, schemes } = this.routes;
    const resource = resources.get(uri);
    const template = this.templateOf(uri);
    if (resource) return { backend: resource.backend, upstreamUri: resource.upstreamUri, resource, ...(template ? { template } : {}) };
    const wrapped = unwrapUri(uri);
    const owner = wrapped && byPrefix.get(wrapped.prefix);
    if (wrapped && owner !== undefined) return { backend: owner, upstreamUri: wrapped.upstream, ...(template?.backend === owner ? { template } : {}) };
    if (template && unprefixed.has(template.backend)) return { backend: template.backend, upstreamUri: uri, template };
    const scheme = schemeOf(uri);
    const claimed = scheme === undefined ? undefined : schemes.get(scheme);
    return claimed === undefined ? undefined : { backend: claimed, upstreamUri: uri };
  }

  /** The listed template a URI expands, by the longest literal start; none when two backends tie. */
  templateOf(uri: string): CatalogTemplate | undefined {
    let best: CatalogTemplate | undefined;
    let tied = false;
    for (const t of this.routes.templates) {
      if (t.literalPrefix === '' || !uri.startsWith(t.literalPrefix)) continue;
      if (!best || t.literalPrefix.length > best.literalPrefix.length) {
        best = t;
        tied = false;
      } else if (t.literalPrefix.length === best.literalPrefix.length && t.backend !== best.backend) tied = true;
    }
    return tied ? undefined : best;
  }
}
