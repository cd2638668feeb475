/**
 * The instances of one backend, tried in round-robin order. An instance that fails is
 * deprioritised (tried after the healthy ones) for a cooldown; it is never removed, so a
 * backend whose instances all failed is still tried.
 */
export class InstancePool {
  private next = 0;
  private readonly coolingUntil = new Map<string, number>();

  constructor(
    readonly urls: readonly string[],
    private readonly cooldownMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every instance once, healthy ones first (round-robin), then cooling ones by earliest recovery. */
  order(): string[] {
    const n = this.urls.length;
    const start = this.next++ % n;
    const now = this.now();
    const healthy: string[] = [];
    const cooling: string[] = [];
    for (let i = 0; i < n; i++) {
      const url = this.urls[(start + i) % n]!;
      if ((this.coolingUntil.get(url) ?? 0) > now) cooling.push(url);
      else healthy.push(url);
    }
    if (cooling.length > 1) cooling.sort((a, b) => this.coolingUntil.get(a)! - this.coolingUntil.get(b)!);
    return cooling.length === 0 ? healthy : [...healthy, ...cooling];
  }

  /** Whether an instance is currently in its cooldown. */
  isCooling(url: string): boolean {
    return (this.coolingUntil.get(url) ?? 0) > this.now();
  }

  failed(url: string): void {
    this.coolingUntil.set(url, this.now() + this.cooldownMs);
  }

  succeeded(url: string): void {
    if (this.coolingUntil.size > 0) this.coolingUntil.delete(url);
  }

  /** Carry cooldowns over to a new instance list (for sources whose instances change). */
  withUrls(urls: readonly string[]): InstancePool {
    const p = new InstancePool(urls, this.cooldownMs, this.now);
    for (const [u, t] of this.coolingUntil) if (urls.includes(u)) p.coolingUntil.set(u, t);
    return p;
  }
}

/** One pool per backend, rebuilt when a backend's instance list changes. */
export class Pools {
  private readonly pools = new Map<string, InstancePool>();

  constructor(private readonly cooldownMs: number) {}

  get(backend: string, urls: readonly string[]): InstancePool {
    const p = this.pools.get(backend);
    if (p && sameList(p.urls, urls)) return p;
    const next = p ? p.withUrls(urls) : new InstancePool(urls, this.cooldownMs);
    this.pools.set(backend, next);
    return next;
  }

  /** A backend's pool if one was made (no call yet: none), without creating it; for metrics. */
  peek(backend: string): InstancePool | undefined {
    return this.pools.get(backend);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
