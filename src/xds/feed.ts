/**
 * Keeps an {@link XdsServer} in step with the catalog's backend list (YAML and Consul alike):
 * every change is resolved to IPs and served. Resolution runs one at a time, and changes that
 * arrive meanwhile collapse into the latest, so a burst of Consul updates costs one resolution.
 *
 * Hostnames are resolved again every `refreshMs` too, so Envoy follows a backend whose name
 * moves to other addresses (the server sends nothing when nothing changed). A name that stops
 * resolving keeps its last known addresses: a DNS hiccup must not empty a cluster.
 */
import { isIP } from 'node:net';
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { BackendDescriptor } from '../catalog/model.js';
import { clusterTargets, resolveSnapshot, resolveWithDns, type ClusterTarget, type ResolveHost } from './clusters.js';
import type { XdsServer } from './server.js';

export interface XdsFeedOptions {
  readonly catalog: Pick<Catalog, 'onBackendsChange' | 'backendList'>;
  readonly server: Pick<XdsServer, 'update'>;
  readonly logger: Logger;
  /** Hostname resolution; node:dns `lookup` (all addresses) by default. */
  readonly resolve?: ResolveHost;
  /** How often hostnames are resolved again without a catalog change (30 s; 0: never). */
  readonly refreshMs?: number;
}

/** Catalog → resolved snapshot → XdsServer; start it after the catalog has started. */
export class XdsFeed {
  private unsubscribe: (() => void) | undefined;
  private latest: readonly BackendDescriptor[] | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private refresher: NodeJS.Timeout | undefined;
  /** The last addresses each hostname resolved to. */
  private readonly known = new Map<string, readonly string[]>();

  constructor(private readonly opts: XdsFeedOptions) {}

  /** Subscribe and serve the current backends; resolves once that first snapshot is in the server. */
  async start(): Promise<void> {
    this.unsubscribe = this.opts.catalog.onBackendsChange((backends) => void this.offer(backends));
    const refreshMs = this.opts.refreshMs ?? 30_000;
    if (refreshMs > 0) {
      this.refresher = setInterval(() => {
        const backends = this.opts.catalog.backendList();
        if (clusterTargets(backends).some((t) => t.hosts.some((h) => isIP(h.host) === 0))) void this.offer(backends);
      }, refreshMs);
      this.refresher.unref();
    }
    await this.offer(this.opts.catalog.backendList());
  }

  stop(): void {
    this.stopped = true;
    clearInterval(this.refresher);
    this.unsubscribe?.();
  }

  private offer(backends: readonly BackendDescriptor[]): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.latest = backends;
    this.running ??= this.drain();
    return this.running;
  }

  private async drain(): Promise<void> {
    try {
      while (this.latest && !this.stopped) {
        const backends = this.latest;
        this.latest = undefined;
        try {
          const targets = clusterTargets(backends);
          const snapshot = await resolveSnapshot(targets, this.opts.logger, (host) => this.resolve(host));
          this.forgetOtherHosts(targets);
          if (!this.stopped) this.opts.server.update(snapshot);
        } catch (err) {
          this.opts.logger.error({ err }, 'xds: could not build a snapshot; Envoy keeps the last one');
        }
      }
    } finally {
      // In the same turn as the last check of `latest`: an offer after this starts a new drain.
      this.running = undefined;
    }
  }

  private async resolve(host: string): Promise<readonly string[]> {
    try {
      const addresses = await (this.opts.resolve ?? resolveWithDns)(host);
      if (addresses.length > 0) this.known.set(host, addresses);
      return addresses;
    } catch (err) {
      const last = this.known.get(host);
      if (!last) throw err;
      this.opts.logger.warn({ host, err: (err as Error).message, addresses: last }, 'xds: cannot resolve a backend host; keeping its last known addresses');
      return last;
    }
  }

  private forgetOtherHosts(targets: readonly ClusterTarget[]): void {
    const current = new Set(targets.flatMap((t) => t.hosts.map((h) => h.host)));
    for (const host of this.known.keys()) if (!current.has(host)) this.known.delete(host);
  }
}
