import type { Logger } from 'pino';
import type { McpBackendConfig } from '../config/schema.js';
import { Backoff, pause } from '../wait.js';

/**
 * Holds a session with a native backend open (a stateless-era backend: a `subscriptions/listen`
 * request) and calls `changed` for every `list_changed` it sends. Resolves `unsupported` when the
 * backend declares no list changes or offers no stream (a session-era backend without sessions,
 * or a stateless one refusing to listen), `ended` when the stream ended; rejects when it could
 * not be opened.
 */
export type ListWatch = (backend: McpBackendConfig, changed: () => void, signal: AbortSignal) => Promise<'unsupported' | 'ended'>;

const FIRST_RETRY_MS = 1_000;
const LAST_RETRY_MS = 30_000;

/**
 * One watch per native backend, so a backend that says its tools, resources or prompts changed is
 * asked again at once instead of at the next refresh. A watch that ends or fails is opened again
 * after a pause that grows to 30 s; one the backend does not support is not.
 */
export class ListWatchers {
  private readonly running = new Map<string, AbortController>();

  constructor(
    private readonly watch: ListWatch,
    private readonly current: (name: string) => McpBackendConfig | undefined,
    private readonly changed: (backend: McpBackendConfig) => void,
    private readonly logger: Logger,
  ) {}

  /** Watch exactly these backends: start the new ones, stop those that left. */
  sync(backends: readonly McpBackendConfig[]): void {
    const names = new Set(backends.map((b) => b.name));
    for (const [name, abort] of this.running) {
      if (names.has(name)) continue;
      abort.abort();
      this.running.delete(name);
    }
    for (const b of backends) {
      if (this.running.has(b.name)) continue;
      const abort = new AbortController();
      this.running.set(b.name, abort);
      void this.loop(b.name, abort.signal);
    }
  }

  stop(): void {
    for (const abort of this.running.values()) abort.abort();
    this.running.clear();
  }

  private async loop(name: string, signal: AbortSignal): Promise<void> {
    const backoff = new Backoff({ firstMs: FIRST_RETRY_MS, maxMs: LAST_RETRY_MS });
    while (!signal.aborted) {
      const backend = this.current(name);
      if (!backend) return;
      try {
        const how = await this.watch(backend, () => this.changed(this.current(name) ?? backend), signal);
        if (how === 'unsupported') return;
        // It worked until the backend ended it: open it again soon, not after the last failure's pause.
        backoff.reset();
      } catch (err) {
        if (signal.aborted) return;
        this.logger.debug({ backend: name, err: (err as Error).message }, 'cannot watch the backend for list changes; retrying');
      }
      await pause(backoff.next(), signal);
    }
  }
}
