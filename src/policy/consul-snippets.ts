import type { Logger } from 'pino';
import { ConsulHttp } from '../catalog/consul/http.js';
import { kvToolsByService, type KvEntry } from '../catalog/consul/mapping.js';
import { runWatch } from '../catalog/consul/watch.js';
import type { ConsulSourceConfig } from '../config/schema.js';

/**
 * Follows the Rego snippets services publish in Consul KV (`<policyPrefix><service>`) with a
 * blocking query, and hands the full set to `onSnippets` whenever it changes. Returns the stop
 * function.
 */
export function watchPolicySnippets(cfg: ConsulSourceConfig, logger: Logger, onSnippets: (snippets: ReadonlyMap<string, string>) => void): () => Promise<void> {
  const http = new ConsulHttp(cfg);
  const abort = new AbortController();
  let failing = false;
  void runWatch({
    read: (index, signal) => http.read(`/v1/kv/${cfg.policyPrefix}`, { recurse: 'true' }, index, signal),
    onData: (body) => {
      const found = kvToolsByService(body as KvEntry[] | null, cfg.policyPrefix);
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
    await http.close();
  };
}
