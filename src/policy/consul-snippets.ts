import type { Logger } from 'pino';
import { consulClient } from '../catalog/consul/client.js';
import { kvToolsByService, type KvEntry } from '../catalog/consul/mapping.js';
import { watchConsul } from '../catalog/consul/watch.js';
import type { ConsulSourceConfig } from '../config/schema.js';

/**
 * Follows the Rego snippets services publish in Consul KV (`<policyPrefix><service>`) with a
 * blocking query, and hands the full set to `onSnippets` whenever it changes. Returns the stop
 * function.
 */
export function watchPolicySnippets(cfg: ConsulSourceConfig, logger: Logger, onSnippets: (snippets: ReadonlyMap<string, string>) => void): () => Promise<void> {
  const consul = consulClient(cfg);
  const abort = new AbortController();
  let failing = false;
  watchConsul(consul, {
    read: (o) => consul.kv.get({ ...o, key: cfg.policyPrefix, recurse: true }),
    what: `/v1/kv/${cfg.policyPrefix}`,
    url: cfg.url,
    waitSeconds: cfg.waitSeconds,
    onData: (body) => {
      const found = kvToolsByService(body as KvEntry[] | undefined, cfg.policyPrefix);
      onSnippets(new Map([...found].map(([service, kv]) => [service, kv.text])));
    },
    onSuccess: () => {
      if (failing) logger.info('consul reachable again; following service policies');
      failing = false;
    },
    onError: (err) => {
      if (!failing) logger.warn({ err: err.message }, 'cannot read service policies from consul; keeping the loaded ones');
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
