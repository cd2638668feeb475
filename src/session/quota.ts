import type { Principal } from './store.js';

/**
 * How many sessions each principal holds, so one caller cannot fill the store: authenticated
 * principals by issuer and subject, anonymous callers (no `auth`) by their address. Counted by
 * each gateway instance for the sessions it created (with Hazelcast, a principal may hold up to
 * the limit on every instance).
 */
export class SessionQuota {
  private readonly byOwner = new Map<string, Set<string>>();
  private readonly ownerOf = new Map<string, string>();

  constructor(private readonly maxPerOwner: number) {}

  /** Who a new session counts against. */
  static owner(principal: Principal, anonymous: boolean, sourceIp: string | null): string {
    return anonymous ? `address\u0000${sourceIp ?? ''}` : `${principal.issuer}\u0000${principal.subject}`;
  }

  /** The sessions counted for `owner` (to check against the store when the owner is at the limit). */
  idsOf(owner: string): readonly string[] {
    return [...(this.byOwner.get(owner) ?? [])];
  }

  /** Count session `id` for its owner; false (nothing counted) when the owner is at the limit. */
  tryAdd(id: string, owner: string): boolean {
    const ids = this.byOwner.get(owner) ?? new Set<string>();
    if (ids.size >= this.maxPerOwner) return false;
    ids.add(id);
    this.byOwner.set(owner, ids);
    this.ownerOf.set(id, owner);
    return true;
  }

  /** The session ended (deleted or expired); a session this instance did not count is ignored. */
  remove(id: string): void {
    const owner = this.ownerOf.get(id);
    if (owner === undefined) return;
    this.ownerOf.delete(id);
    const ids = this.byOwner.get(owner);
    ids?.delete(id);
    if (ids?.size === 0) this.byOwner.delete(owner);
  }
}
