import type { Logger } from 'pino';
import type { ConsulSourceConfig } from '../../config/schema.js';
import { consulClient } from './client.js';
import { kvToolsByService, type KvEntry } from './mapping.js';
import { watchConsul } from './watch.js';

/**
 * Follow one KV folder with a blocking query and hand `onEntries` the full set (`<prefix><name>`
 * → value) whenever it changes. While Consul cannot be reached the last set stays in force;
 * `what` names the data in the two log lines that say so. Returns the stop function.
 */
export function watchKvFolder(cfg: ConsulSourceConfig, prefix: string, what: string, logger: Logger, onEntries: (entries: ReadonlyMap<string, string>) => void): () => Promise<void> {
  const consul = consulClient(cfg);
  const abort = new AbortController();
  let failing = false;
  watchConsul(consul, {
    read: (o) => consul.kv.get({ ...o, key: prefix, recurse: true }),
    what: `/v1/kv/${prefix}`,
    url: cfg.url,
    waitSeconds: cfg.waitSeconds,
    onData: (body) => {
      const found = kvToolsByService(body as KvEntry[] | undefined, prefix);
      onEntries(new Map([...found].map(([name, kv]) => [name, kv.text])));
    },
    onSuccess: () => {
      if (failing) logger.info(`consul reachable again; following ${what}`);
      failing = false;
    },
    onError: (err) => {
      if (!failing) logger.warn({ err: err.message }, `cannot read ${what} from consul; keeping the loaded ones`);
      failing = true;
    },
    retryMaxMs: cfg.retryMaxMs,
    signal: abort.signal,
  });
  return async () => {
    abort.abort();
    consul.destroy();
  };
}
