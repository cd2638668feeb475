import type { Caller } from '../auth/caller.js';
import type { CatalogSnapshot, ToolPager } from '../catalog/snapshot.js';
import type { SessionRecord } from '../session/store.js';
import { AllowAllPolicy, type PolicyEngine } from './engine.js';
import { policySubject } from './input.js';

/**
 * What `tools/list` shows a caller: only the tools policy lets them call. One batched decision
 * per caller and catalog version, remembered for `cacheMs`.
 */
export class ToolVisibility {
  private readonly cache = new Map<string, { pager: ToolPager; expires: number }>();

  constructor(
    private readonly policy: PolicyEngine,
    private readonly cacheMs: number,
  ) {}

  async pagerFor(caller: Caller, session: SessionRecord, snapshot: CatalogSnapshot, sourceIp: string | null): Promise<ToolPager> {
    if (this.policy instanceof AllowAllPolicy) return snapshot.pager;
    const key = `${snapshot.version}\u0000${caller.principal.issuer}\u0000${caller.principal.subject}\u0000${caller.clientId ?? ''}\u0000${caller.roles.join(' ')}\u0000${caller.scopes.join(' ')}`;
    const now = Date.now();
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return hit.pager;
    const allowed = await this.policy.visible(policySubject(caller, session, sourceIp), snapshot.sorted);
    const pager = snapshot.pager.filter((t) => allowed.has(t.name));
    if (this.cache.size > 10_000) this.cache.clear();
    if (this.cacheMs > 0) this.cache.set(key, { pager, expires: now + this.cacheMs });
    return pager;
  }
}
