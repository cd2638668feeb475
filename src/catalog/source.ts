import type { BackendDescriptor } from './model.js';

/** Receives the full current backend list, and problems the source found (shown with the catalog's own). */
export type BackendsListener = (backends: readonly BackendDescriptor[], problems?: readonly string[]) => void;

/** How fresh a source's view is, for `/healthz`. */
export interface SourceStatus {
  /** True while the source cannot reach where backends come from and serves the last known list. */
  readonly stale: boolean;
  /** Epoch ms of the last successful answer from the source's backing system. */
  readonly lastSuccessAt?: number;
  /** The last error while stale. */
  readonly error?: string;
}

/**
 * Where backends come from. A source pushes the full current list whenever it changes;
 * the file source pushes once, the Consul source on every catalog change.
 */
export interface CatalogSource {
  start(onBackends: BackendsListener): Promise<void>;
  stop(): Promise<void>;
  /** Freshness, for sources backed by a remote system; absent means always fresh. */
  status?(): SourceStatus;
}

/** Backends fixed in the configuration file. */
export class StaticSource implements CatalogSource {
  constructor(private readonly backends: readonly BackendDescriptor[]) {}
  async start(onBackends: BackendsListener): Promise<void> {
    onBackends(this.backends);
  }
  async stop(): Promise<void> {}
}
