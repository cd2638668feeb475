import type { Caller } from '../auth/caller.js';
import type { Pager } from '../catalog/pager.js';
import { offeredKey, toolsOffered } from '../catalog/conditional.js';
import { LISTINGS, type CatalogSnapshot, type Listings } from '../catalog/snapshot.js';
import type { ListKind } from '../mcp/methods.js';
import type { SessionRecord } from '../session/store.js';
import { isUndecided, type PolicyEngine } from './engine.js';
import { listItemPart, policySubject } from './input.js';

/**
 * What a listing (`tools/list`, `resources/list`, `resources/templates/list`, `prompts/list`)
 * shows a caller: only the entries policy lets them use (tools: only those offered to its client's
 * declared capabilities, src/catalog/conditional.ts). One batched decision per caller, list
 * and catalog version, remembered for `cacheMs`.
 */
export class ListVisibility {
  /** Pagers being computed or computed, by caller, list and catalog version; concurrent misses share one query. */
  private readonly cache = new Map<string, { pager: Promise<Pager<unknown>>; expires: number }>();
  /** The keys each filtered listing holds, built on first ask. */
  private readonly keys = new WeakMap<Pager<unknown>, ReadonlySet<string>>();
  /** Listings the engine could not decide (they show nothing; they hide nothing from a call's own decision). */
  private readonly undecided = new WeakSet<Pager<unknown>>();

  constructor(
    private readonly policy: PolicyEngine,
    private readonly cacheMs: number,
  ) {}

  async pagerFor<K extends ListKind>(list: K, caller: Caller, session: SessionRecord, snapshot: CatalogSnapshot, sourceIp: string | null): Promise<Listings[K]> {
    const all = (list === 'tools' ? toolsOffered(snapshot, session.clientCapabilities) : snapshot.lists[list]) as Pager<unknown>;
    if (this.policy.allowsAll) return all as Listings[K];
    const key = `${list}\u0000${all === snapshot.lists[list] ? '' : offeredKey(session.clientCapabilities)}\u0000${snapshot.version}\u0000${caller.principal.issuer}\u0000${caller.principal.subject}\u0000${caller.clientId ?? ''}\u0000${caller.roles.join(' ')}\u0000${caller.scopes.join(' ')}\u0000${session.virtualServer ?? ''}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.pager as Promise<Listings[K]>;
    const items = all.sorted.map((e) => listItemPart(list, e));
    const pager = this.policy.visible(policySubject(caller, session, sourceIp), items).then((allowed) => {
      // Engines answer `request.name`s: catalog names, which on a virtual server differ from the names it lists (renames).
      const usable = new Set(all.sorted.filter((_, i) => allowed.has(items[i]!.request.name)));
      const shown = all.filter((e) => usable.has(e));
      if (isUndecided(allowed)) this.undecided.add(shown);
      return shown;
    });
    if (this.cache.size >= 10_000) this.evict(now);
    // Until it settles the entry serves concurrent listings; afterwards it lives for cacheMs.
    const entry = { pager, expires: Number.POSITIVE_INFINITY };
    this.cache.set(key, entry);
    pager.then(
      // An engine that could not decide shows nothing now, and is asked again next time.
      (shown) => (entry.expires = this.undecided.has(shown) ? 0 : Date.now() + this.cacheMs),
      () => this.cache.delete(key),
    );
    return pager as Promise<Listings[K]>;
  }

  /**
   * Whether the caller's listing shows `key` (a tool or prompt name): the same cached decision as
   * the listing, so asking costs a set lookup while the listing is cached.
   */
  async canUse(list: 'tools' | 'prompts', caller: Caller, session: SessionRecord, snapshot: CatalogSnapshot, sourceIp: string | null, key: string): Promise<boolean> {
    const pager = (await this.pagerFor(list, caller, session, snapshot, sourceIp)) as Pager<unknown>;
    // Undecided: let the call's own decision answer (it fails closed with GW_POLICY_UNAVAILABLE).
    if (this.undecided.has(pager)) return true;
    let keys = this.keys.get(pager);
    if (!keys) {
      const keyOf = LISTINGS[list].keyOf as (e: unknown) => string;
      keys = new Set(pager.sorted.map(keyOf));
      this.keys.set(pager, keys);
    }
    return keys.has(key);
  }

  private evict(now: number): void {
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    if (this.cache.size >= 10_000) this.cache.clear();
  }
}
