import type { Principal } from './store.js';

/**
 * How many sessions each owner holds in one process, so one caller cannot fill the store
 * (`sessions.maxPerPrincipal`). The memory store counts with it; the Hazelcast store keeps its
 * count in the cluster (src/session/hazelcast-owners.ts), where every instance sees it.
 */
export class SessionQuota {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();

  /**
   * Who a new session counts against: authenticated principals by issuer and subject, anonymous
   * callers (no `auth`) by their address.
   */
  static owner(principal: Principal, anonymous: boolean, sourceIp: string | null): string {
    return anonymous ? `address\u0000${sourceIp ?? ''}` : `${principal.issuer}\u0000${principal.subject}`;
  }

  /** The sessions counted for `owner` (to check against the store when the owner is at the limit). */
  idsOf(owner: string): readonly string[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  /** Count session `id` for its owner; false (nothing counted) when the owner holds `max` already. */
  tryAdd(id: string, owner: string, max: number): boolean {
    const ids = this.byOwner.get(owner) ?? new Set<string>();
    if (ids.size >= max) return false;
    ids.add(id);
    this.byOwner.set(owner, ids);
    this.ownerOf.set(id, owner);
    return true;
  }

  /** The session ended (deleted or expired); a session not counted is ignored. */
  remove(id: string): void {
    const owner = this.ownerOf.get(id);
    if (owner === undefined) return;
    this.ownerOf.delete(id);
    const ids = this.byOwner.get(owner);
    ids?.delete(id);
    if (ids?.size === 0) this.byOwner.delete(owner);
  }
}
