import type { Logger } from 'pino';
import type { ConsulSourceConfig } from '../../config/schema.js';
import type { BackendDescriptor } from '../model.js';
import type { BackendsListener, CatalogSource, SourceStatus } from '../source.js';
import type Consul from 'consul';
import { consulClient } from './client.js';
import { kvToolsByService, mapService, META, type HealthEntry, type KvEntry, type KvTools, type MappedService } from './mapping.js';
import { watchConsul, type BlockingOptions } from './watch.js';
import { settleWithin } from '../../wait.js';

/** Consul's filter for MCP-enabled services and instances (evaluated by Consul, so other services cost nothing). */
const SERVICES_FILTER = `ServiceMeta["${META.enabled}"] == "true"`;
const INSTANCES_FILTER = `Service.Meta["${META.enabled}"] == "true"`;
/** Changes arriving together (a new service, then its first health answer) become one push. */
const COALESCE_MS = 20;

interface ServiceWatch {
  readonly stop: AbortController;
  entries?: readonly HealthEntry[];
  /** The last mapping and its inputs: a change elsewhere does not re-validate this service's tools. */
  mapped?: { readonly entries: readonly HealthEntry[]; readonly kv: string | undefined; readonly result: MappedService };
}

/**
 * Backends from Consul: services whose meta says `mcp-enabled=true`, their passing instances,
 * and REST tool definitions from KV. Three kinds of blocking queries run in the background (the
 * MCP service list, one health query per service, the KV folder); any change pushes a new list.
 * While Consul cannot be reached the last known list stays in force, `status()` says stale, and
 * the watches keep retrying with backoff until Consul answers again.
 */
export class ConsulSource implements CatalogSource {
  private readonly consul: Consul;
  private readonly abort = new AbortController();
  private readonly services = new Map<string, ServiceWatch>();
  private kv: Map<string, KvTools> | undefined;
  private servicesKnown = false;
  private readonly failing = new Map<string, string>();
  private lastSuccessAt: number | undefined;
  private lastError: string | undefined;
  private listener: BackendsListener | undefined;
  private started = false;
  private timer: NodeJS.Timeout | undefined;
  private lastPushed = '';
  private firstSync: (() => void) | undefined;

  constructor(
    private readonly cfg: ConsulSourceConfig,
    private readonly logger: Logger,
  ) {
    this.consul = consulClient(cfg);
  }

  async start(onBackends: BackendsListener): Promise<void> {
    this.listener = onBackends;
    const synced = new Promise<void>((resolve) => (this.firstSync = resolve));
    const kvKey = this.cfg.kvPrefix;
    this.watch('services', '/v1/catalog/services', (o) => this.consul.catalog.service.list({ ...o, filter: SERVICES_FILTER }), this.abort.signal, (body) => this.setServices(body));
    this.watch('kv', `/v1/kv/${kvKey}`, (o) => this.consul.kv.get({ ...o, key: kvKey, recurse: true }), this.abort.signal, (body) => {
      this.kv = kvToolsByService(body as KvEntry[] | undefined, kvKey);
    });
    await settleWithin(synced, this.cfg.startTimeoutMs);
    this.started = true;
    if (!this.isSynced()) this.logger.warn({ consul: this.cfg.url, err: this.lastError }, 'consul not in sync at start; serving what is known and retrying in the background');
    this.push();
  }

  async stop(): Promise<void> {
    this.abort.abort();
    clearTimeout(this.timer);
    this.consul.destroy();
  }

  status(): SourceStatus {
    const stale = this.failing.size > 0 || !this.isSynced();
    const out: { stale: boolean; lastSuccessAt?: number; error?: string } = { stale };
    if (this.lastSuccessAt !== undefined) out.lastSuccessAt = this.lastSuccessAt;
    if (stale && this.lastError !== undefined) out.error = this.lastError;
    return out;
  }

  private watch(name: string, what: string, read: (o: BlockingOptions) => Promise<unknown>, signal: AbortSignal, onData: (body: unknown) => void): void {
    watchConsul(this.consul, {
      read,
      what,
      url: this.cfg.url,
      waitSeconds: this.cfg.waitSeconds,
      onData: (body) => {
        onData(body);
        this.changed();
      },
      onSuccess: () => this.succeeded(name),
      onError: (err) => this.failed(name, err),
      retryMaxMs: this.cfg.retryMaxMs,
      signal,
    });
  }

  private setServices(body: unknown): void {
    this.servicesKnown = true;
    const names = new Set(Object.keys((body ?? {}) as Record<string, unknown>));
    for (const [name, w] of this.services) {
      if (names.has(name)) continue;
      w.stop.abort();
      this.services.delete(name);
      this.failing.delete(`health:${name}`);
    }
    for (const name of names) {
      if (this.services.has(name)) continue;
      const w: ServiceWatch = { stop: new AbortController() };
      this.services.set(name, w);
      const signal = AbortSignal.any([this.abort.signal, w.stop.signal]);
      const read = (o: BlockingOptions): Promise<unknown> => this.consul.health.service({ ...o, service: name, passing: true, filter: INSTANCES_FILTER });
      this.watch(`health:${name}`, `/v1/health/service/${name}`, read, signal, (body) => {
        w.entries = (body ?? []) as HealthEntry[];
      });
    }
  }

  private isSynced(): boolean {
    if (!this.servicesKnown || !this.kv) return false;
    for (const w of this.services.values()) if (!w.entries) return false;
    return true;
  }

  private succeeded(watch: string): void {
    this.lastSuccessAt = Date.now();
    if (this.failing.delete(watch) && this.failing.size === 0) {
      this.logger.info({ consul: this.cfg.url }, 'consul reachable again; discovery resumed');
    }
  }

  private failed(watch: string, err: Error): void {
    this.lastError = err.message;
    if (this.failing.size === 0) this.logger.warn({ consul: this.cfg.url, watch, err: err.message }, 'consul unreachable; serving the last known catalog');
    else this.logger.debug({ watch, err: err.message }, 'consul read failed');
    this.failing.set(watch, err.message);
    this.firstSync?.();
  }

  private changed(): void {
    if (this.isSynced()) this.firstSync?.();
    if (!this.started || this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.push();
    }, COALESCE_MS);
  }

  /** Map every known service and push the result if it differs from the last push. */
  private push(): void {
    const backends: BackendDescriptor[] = [];
    const problems: string[] = [];
    for (const name of [...this.services.keys()].sort()) {
      const w = this.services.get(name)!;
      if (!w.entries) continue;
      const kv = this.kv?.get(name);
      if (w.mapped?.entries !== w.entries || w.mapped.kv !== kv?.text) {
        w.mapped = { entries: w.entries, kv: kv?.text, result: mapService(name, w.entries, kv, this.cfg, this.cfg.services[name]) };
      }
      const mapped = w.mapped.result;
      if (mapped.backend) backends.push(mapped.backend);
      if (mapped.problem) problems.push(mapped.problem);
    }
    const text = JSON.stringify([backends, problems]);
    if (text === this.lastPushed) return;
    this.lastPushed = text;
    this.logger.debug({ backends: backends.length, problems: problems.length }, 'consul catalog changed');
    this.listener?.(backends, problems);
  }
}
