import type { Caller } from '../auth/caller.js';
import type { CatalogSnapshot, ToolPager } from '../catalog/snapshot.js';
import type { SessionRecord } from '../session/store.js';
import type { PolicyEngine } from './engine.js';
import { policySubject } from './input.js';

/**
 * What `tools/list` shows a caller: only the tools policy lets them call. One batched decision
 * per caller and catalog version, remembered for `cacheMs`.
 */
export class ToolVisibility {
  /** Pagers being computed or computed, by caller and catalog version; concurrent misses share one query. */
  private readonly cache = new Map<string, { pager: Promise<ToolPager>; expires: number }>();

  constructor(
    private readonly policy: PolicyEngine,
    private readonly cacheMs: number,
  ) {}

  async pagerFor(caller: Caller, session: SessionRecord, snapshot: CatalogSnapshot, sourceIp: string | null): Promise<ToolPager> {
    if (this.policy.allowsAll) return snapshot.pager;
    const key = `${snapshot.version}\u0000${caller.principal.issuer}\u0000${caller.principal.subject}\u0000${caller.clientId ?? ''}\u0000${caller.roles.join(' ')}\u0000${caller.scopes.join(' ')}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.pager;
    const pager = this.policy.visible(policySubject(caller, session, sourceIp), snapshot.sorted).then((allowed) => snapshot.pager.filter((t) => allowed.has(t.name)));
    if (this.cache.size >= 10_000) this.evict(now);
    // Until it settles the entry serves concurrent listings; afterwards it lives for cacheMs.
    const entry = { pager, expires: Number.POSITIVE_INFINITY };
    this.cache.set(key, entry);
    pager.then(
      () => (entry.expires = Date.now() + this.cacheMs),
      () => this.cache.delete(key),
    );
    return pager;
  }

  private evict(now: number): void {
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    if (this.cache.size >= 10_000) this.cache.clear();
  }
}
