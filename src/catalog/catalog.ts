import type { Logger } from 'pino';
import type { McpBackendConfig, RestBackendConfig, RestToolConfig } from '../config/schema.js';
import type { ListKind } from '../mcp/methods.js';
import type { Era } from '../mcp/era.js';
import type { BackendDescriptor, Published, ToolDefinition } from './model.js';
import { buildSnapshot, CatalogSnapshot, LISTINGS } from './snapshot.js';
import { ListWatchers, type ListWatch } from './watchers.js';
import type { CatalogSource, SourceStatus } from './source.js';
import { settleWithin } from '../wait.js';
import type { PinReview } from '../pinning/review.js';

/** Asks a native MCP backend for what it publishes: tools, resources, resource templates, prompts (all pages). */
export type Discovery = (backend: McpBackendConfig, signal: AbortSignal) => Promise<Published>;

/** Turns a REST backend's OpenAPI document into tools; `forget` drops what it kept of a backend. */
export interface OpenApiImport {
  import(backend: RestBackendConfig, signal: AbortSignal): Promise<readonly RestToolConfig[]>;
  forget(name: string): void;
}

/** A backend whose lists the catalog reads in the background: a native one, or a REST one described by an OpenAPI document. */
type ReadBackend = McpBackendConfig | (RestBackendConfig & { openapi: NonNullable<RestBackendConfig['openapi']> });

/** Listener of catalog changes: the new snapshot, and which listings clients would now see differently. */
export type CatalogListener = (s: CatalogSnapshot, changed: ReadonlySet<ListKind>) => void;

const LIST_KINDS = Object.keys(LISTINGS) as ListKind[];

export interface CatalogOptions {
  readonly source: CatalogSource;
  readonly discover: Discovery;
  /** Reads REST backends' OpenAPI documents (src/catalog/openapi/importer.ts); none: `openapi` backends get no tools. */
  readonly openapi?: OpenApiImport;
  /** Watches native backends for list_changed (src/catalog/watchers.ts); none: only the periodic refresh. */
  readonly watch?: ListWatch;
  readonly separator: string;
  readonly pageSize: number;
  readonly refreshIntervalMs: number;
  readonly logger: Logger;
  /** How long start() waits for the first discovery before serving what it has. */
  readonly initialDiscoveryTimeoutMs?: number;
  /** Pinned definitions (src/pinning/pins.ts): each build is judged against the approvals. */
  readonly pins?: { open(): PinReview & { close(): void } };
}

/**
 * Owns the current {@link CatalogSnapshot}. Discovery runs in the background and never on a
 * request path; a new snapshot replaces the old one atomically and listeners hear about it
 * only when the tools clients see have changed.
 */
export class Catalog {
  private snapshot: CatalogSnapshot;
  private backends: readonly BackendDescriptor[] = [];
  private sourceProblems: readonly string[] = [];
  private readonly discovered = new Map<string, readonly ToolDefinition[]>();
  private readonly published = new Map<string, Published>();
  /** Tools from REST backends' OpenAPI documents: the last good import of each. */
  private readonly imported = new Map<string, readonly RestToolConfig[]>();
  private readonly listeners = new Set<CatalogListener>();
  private readonly backendListeners = new Set<(backends: readonly BackendDescriptor[]) => void>();
  private readonly inflight = new Map<string, Promise<void>>();
  private readonly abort = new AbortController();
  private timer: NodeJS.Timeout | undefined;
  private fingerprints = new Map<ListKind, string>();
  private rebuiltAt = Date.now();
  private readonly watchers: ListWatchers | undefined;
  /** Native backends whose last discovery failed, with why. */
  private readonly failing = new Map<string, string>();

  constructor(private readonly opts: CatalogOptions) {
    this.watchers = opts.watch
      ? new ListWatchers(opts.watch, (name) => this.nativeBackends().find((b) => b.name === name), (b) => void this.refresh(b), opts.logger)
      : undefined;
    this.snapshot = buildSnapshot({ version: 0, backends: [], discovered: this.discovered, separator: opts.separator, pageSize: opts.pageSize });
  }

  /** The snapshot to serve right now. */
  current(): CatalogSnapshot {
    return this.snapshot;
  }

  /** Subscribe to changes of what clients see in any listing; returns the unsubscribe function. */
  onChange(listener: CatalogListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The backends the source reports now (configured and discovered), e.g. for Envoy's clusters. */
  backendList(): readonly BackendDescriptor[] {
    return this.backends;
  }

  /**
   * Subscribe to every backend-list update from the source, even when the tools stay the same:
   * instances come and go without changing the catalog. Returns the unsubscribe function.
   */
  onBackendsChange(listener: (backends: readonly BackendDescriptor[]) => void): () => void {
    this.backendListeners.add(listener);
    return () => this.backendListeners.delete(listener);
  }

  async start(): Promise<void> {
    await this.opts.source.start((backends, problems) => this.setBackends(backends, problems ?? []));
    const first = this.refreshAll();
    const wait = this.opts.initialDiscoveryTimeoutMs ?? 5_000;
    await settleWithin(first, wait);
    this.timer = setInterval(() => void this.refreshAll(), this.opts.refreshIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.watchers?.stop();
    this.abort.abort();
    await this.opts.source.stop();
  }

  /** Epoch ms of the last rebuild of the snapshot (a source update or a native backend's discovery). */
  updatedAt(): number {
    return this.rebuiltAt;
  }

  /** How fresh the source's backend list is (`stale` while e.g. Consul cannot be reached). */
  sourceStatus(): SourceStatus {
    return this.opts.source.status?.() ?? { stale: false };
  }

  /** Backends whose last discovery or OpenAPI import failed (serving what was known before), with why. */
  discoveryFailures(): ReadonlyMap<string, string> {
    for (const name of this.failing.keys()) if (!this.backends.some((b) => b.name === name)) this.failing.delete(name);
    return this.failing;
  }

  /** The era each native backend was last found to speak (admin `/healthz`, metrics); a backend not discovered yet is absent. */
  eras(): ReadonlyMap<string, Era> {
    const out = new Map<string, Era>();
    for (const b of this.nativeBackends()) {
      const era = this.published.get(b.name)?.era;
      if (era) out.set(b.name, era);
    }
    return out;
  }

  /** Re-discover every native backend and re-read every OpenAPI document now (at start, then every `refreshIntervalMs`). */
  async refreshAll(): Promise<void> {
    await Promise.all(this.backends.filter(isRead).map((b) => this.refresh(b)));
  }

  private nativeBackends(): McpBackendConfig[] {
    return this.backends.filter((b): b is McpBackendConfig => b.kind === 'mcp');
  }

  private setBackends(backends: readonly BackendDescriptor[], problems: readonly string[]): void {
    this.sourceProblems = problems;
    const known = new Set(backends.map((b) => b.name));
    for (const name of this.discovered.keys()) if (!known.has(name)) this.discovered.delete(name);
    for (const name of this.published.keys()) if (!known.has(name)) this.published.delete(name);
    const documents = new Map(backends.filter(isRead).filter((b) => b.kind === 'rest').map((b) => [b.name, JSON.stringify(b.openapi)]));
    for (const name of this.imported.keys()) if (!documents.has(name)) this.dropImport(name);
    // New backends are read at once; so is a REST backend whose document moved (a new URL or KV key).
    const added = backends.filter(isRead).filter((b) => {
      const before = this.backends.find((o) => o.name === b.name);
      return !before || (b.kind === 'rest' && (before.kind !== 'rest' || JSON.stringify(before.openapi) !== documents.get(b.name)));
    });
    this.backends = backends;
    this.rebuild();
    for (const l of this.backendListeners) l(backends);
    for (const b of added) void this.refresh(b);
    if (!this.abort.signal.aborted) this.watchers?.sync(this.nativeBackends());
  }

  /** Discover what one backend publishes (or re-read its OpenAPI document); a failure keeps the last known lists and is logged. */
  async refresh(backend: ReadBackend): Promise<void> {
    const running = this.inflight.get(backend.name);
    if (running) return running;
    const task = (async () => {
      try {
        if (backend.kind === 'mcp') {
          const published = await this.opts.discover(backend, this.abort.signal);
          if (!this.backends.some((b) => b.name === backend.name)) return;
          const era = this.published.get(backend.name)?.era;
          if (published.era && published.era !== era) this.opts.logger.info({ backend: backend.name, era: published.era }, 'backend era');
          this.discovered.set(backend.name, published.tools);
          this.published.set(backend.name, published);
        } else {
          if (!this.opts.openapi) throw new Error('OpenAPI import is not available in this gateway');
          const tools = await this.opts.openapi.import(backend, this.abort.signal);
          // The backend may have left, or moved to another document, while this one was read.
          const now = this.backends.find((b) => b.name === backend.name);
          if (now?.kind !== 'rest' || JSON.stringify(now.openapi) !== JSON.stringify(backend.openapi)) return;
          this.imported.set(backend.name, tools);
        }
        this.failing.delete(backend.name);
        this.rebuild();
      } catch (err) {
        if (this.abort.signal.aborted) return;
        this.failing.set(backend.name, (err as Error).message);
        const what = backend.kind === 'mcp' ? 'discovery failed; keeping the last known tools, resources and prompts' : 'OpenAPI import failed; keeping the last good tools';
        this.opts.logger.warn({ backend: backend.name, err: (err as Error).message }, what);
      } finally {
        this.inflight.delete(backend.name);
      }
    })();
    this.inflight.set(backend.name, task);
    return task;
  }

  private dropImport(name: string): void {
    this.imported.delete(name);
    this.opts.openapi?.forget(name);
  }

  /** Build the snapshot again from what is known (the approvals of pinned definitions changed). */
  reapply(): void {
    this.rebuild();
  }

  private rebuild(): void {
    const pins = this.opts.pins?.open();
    const next = buildSnapshot({
      version: this.snapshot.version + 1,
      backends: this.backends,
      discovered: this.discovered,
      published: this.published,
      imported: this.imported,
      separator: this.opts.separator,
      pageSize: this.opts.pageSize,
      problems: [...this.sourceProblems, ...[...this.published.values()].flatMap((p) => p.problems ?? [])],
      ...(pins ? { pins } : {}),
    });
    pins?.close();
    for (const p of next.problems) if (!this.snapshot.problems.includes(p)) this.opts.logger.error({ problem: p }, 'catalog problem');
    const changed = new Set<ListKind>();
    for (const list of LIST_KINDS) {
      const pager = next.lists[list];
      const fingerprint = JSON.stringify(pager.sorted.map(pager.listing.definitionOf as (e: unknown) => unknown));
      if (fingerprint !== this.fingerprints.get(list)) changed.add(list);
      this.fingerprints.set(list, fingerprint);
    }
    this.snapshot = next;
    this.rebuiltAt = Date.now();
    if (changed.size > 0) {
      this.opts.logger.info({ version: next.version, tools: next.tools.size, resources: next.resources.size, resourceTemplates: next.templates.size, prompts: next.prompts.size }, 'catalog updated');
      for (const l of this.listeners) l(next, changed);
    }
  }
}

function isRead(b: BackendDescriptor): b is ReadBackend {
  return b.kind === 'mcp' || b.openapi !== undefined;
}
