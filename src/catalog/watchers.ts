import type { Logger } from 'pino';
import type { McpBackendConfig } from '../config/schema.js';
import { pause as wait } from '../wait.js';

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
    for (let pause = FIRST_RETRY_MS; !signal.aborted; pause = Math.min(pause * 2, LAST_RETRY_MS)) {
      const backend = this.current(name);
      if (!backend) return;
      try {
        const how = await this.watch(backend, () => this.changed(this.current(name) ?? backend), signal);
        if (how === 'unsupported') return;
        pause = FIRST_RETRY_MS / 2; // it worked: the next pause starts small again
      } catch (err) {
        if (signal.aborted) return;
        this.logger.debug({ backend: name, err: (err as Error).message }, 'cannot watch the backend for list changes; retrying');
      }
      await wait(pause, signal);
    }
  }
}
