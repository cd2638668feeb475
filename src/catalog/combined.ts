import type { BackendDescriptor } from './model.js';
import type { BackendsListener, CatalogSource, SourceStatus } from './source.js';

/** A source and the word used for it in messages ("configuration", "consul"). */
export interface NamedSource {
  readonly label: string;
  readonly source: CatalogSource;
}

/**
 * Several sources as one: the lists are concatenated in source order. A backend whose name an
 * earlier source already uses is left out and reported as a catalog problem, so configured
 * backends (listed first) can never be replaced by a discovered service of the same name.
 */
export class CombinedSource implements CatalogSource {
  private readonly lists: Array<{ backends: readonly BackendDescriptor[]; problems: readonly string[] }>;

  constructor(private readonly sources: readonly NamedSource[]) {
    this.lists = sources.map(() => ({ backends: [], problems: [] }));
  }

  async start(onBackends: BackendsListener): Promise<void> {
    const emit = (): void => {
      const { backends, problems } = this.merge();
      onBackends(backends, problems);
    };
    for (const [i, { source }] of this.sources.entries()) {
      await source.start((backends, problems) => {
        this.lists[i] = { backends, problems: problems ?? [] };
        emit();
      });
    }
  }

  async stop(): Promise<void> {
    await Promise.all(this.sources.map((s) => s.source.stop()));
  }

  /** Stale when any part is; the error and last success of the first stale (or only remote) part. */
  status(): SourceStatus {
    const all = this.sources.map((s) => s.source.status?.()).filter((s): s is SourceStatus => s !== undefined);
    return all.find((s) => s.stale) ?? all[0] ?? { stale: false };
  }

  private merge(): { backends: BackendDescriptor[]; problems: string[] } {
    const owner = new Map<string, string>();
    const backends: BackendDescriptor[] = [];
    const problems: string[] = [];
    for (const [i, { label }] of this.sources.entries()) {
      const list = this.lists[i]!;
      problems.push(...list.problems);
      for (const b of list.backends) {
        const first = owner.get(b.name);
        if (first !== undefined) {
          problems.push(`backend "${b.name}" from ${label} is left out: the name is already used by a backend from ${first}`);
          continue;
        }
        owner.set(b.name, label);
        backends.push(b);
      }
    }
    return { backends, problems };
  }
}
