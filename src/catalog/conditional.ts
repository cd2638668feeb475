import { declares, PROBED_FEATURES } from '../mcp/client-capabilities.js';
import type { CatalogTool } from './model.js';
import type { Pager } from './pager.js';
import type { CatalogSnapshot } from './snapshot.js';

/** Per snapshot: the tools listing of each combination of declared features (a handful at most). */
const bySnapshot = new WeakMap<CatalogSnapshot, Map<string, Pager<CatalogTool>>>();

/** Which probed features a client declared, as a cache key. */
export function offeredKey(client: Readonly<Record<string, unknown>>): string {
  return PROBED_FEATURES.map((f) => (declares(client, f) ? '1' : '0')).join('');
}

/** Whether a client may see and call a tool: it declared every feature the backend lists the tool only with. */
export function offeredTo(tool: CatalogTool, client: Readonly<Record<string, unknown>>): boolean {
  return !tool.needs || tool.needs.every((f) => declares(client, f));
}

/**
 * The tools listing a client sees before policy: the catalog's (discovered with every relayed
 * capability, so it holds each conditional tool), without the tools its backend offers only to
 * clients with features this one did not declare.
 */
export function toolsOffered(snapshot: CatalogSnapshot, client: Readonly<Record<string, unknown>>): Pager<CatalogTool> {
  const all = snapshot.lists.tools;
  if (!all.sorted.some((t) => t.needs)) return all;
  let cache = bySnapshot.get(snapshot);
  if (!cache) bySnapshot.set(snapshot, (cache = new Map()));
  const key = offeredKey(client);
  let pager = cache.get(key);
  if (!pager) cache.set(key, (pager = all.filter((t) => offeredTo(t, client))));
  return pager;
}
