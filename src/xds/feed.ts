/**
 * Keeps an {@link XdsServer} in step with the catalog's backend list (YAML and Consul alike):
 * every change is resolved to IPs and served. Resolution runs one at a time, and changes that
 * arrive meanwhile collapse into the latest, so a burst of Consul updates costs one resolution.
 */
import type { Logger } from 'pino';
import type { Catalog } from '../catalog/catalog.js';
import type { BackendDescriptor } from '../catalog/model.js';
import { clusterTargets, resolveSnapshot, resolveWithDns, type ResolveHost } from './clusters.js';
import type { XdsServer } from './server.js';

export interface XdsFeedOptions {
  readonly catalog: Pick<Catalog, 'onBackendsChange' | 'backendList'>;
  readonly server: Pick<XdsServer, 'update'>;
  readonly logger: Logger;
  /** Hostname resolution; node:dns `lookup` (all addresses) by default. */
  readonly resolve?: ResolveHost;
}

/** Catalog → resolved snapshot → XdsServer; start it after the catalog has started. */
export class XdsFeed {
  private unsubscribe: (() => void) | undefined;
  private latest: readonly BackendDescriptor[] | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  constructor(private readonly opts: XdsFeedOptions) {}

  /** Subscribe and serve the current backends; resolves once that first snapshot is in the server. */
  async start(): Promise<void> {
    this.unsubscribe = this.opts.catalog.onBackendsChange((backends) => void this.offer(backends));
    await this.offer(this.opts.catalog.backendList());
  }

  stop(): void {
    this.stopped = true;
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
          const snapshot = await resolveSnapshot(clusterTargets(backends), this.opts.logger, this.opts.resolve ?? resolveWithDns);
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
}
