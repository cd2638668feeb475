import type { BackendDescriptor } from './model.js';

/**
 * Where backends come from. A source pushes the full current list whenever it changes;
 * the file source pushes once, the Consul source on every catalog change.
 */
export interface CatalogSource {
  start(onBackends: (backends: readonly BackendDescriptor[]) => void): Promise<void>;
  stop(): Promise<void>;
}

/** Backends fixed in the configuration file. */
export class StaticSource implements CatalogSource {
  constructor(private readonly backends: readonly BackendDescriptor[]) {}
  async start(onBackends: (backends: readonly BackendDescriptor[]) => void): Promise<void> {
    onBackends(this.backends);
  }
  async stop(): Promise<void> {}
}
