import type { Logger } from 'pino';
import { watchKvFolder } from '../catalog/consul/kv-folder.js';
import type { ConsulSourceConfig } from '../config/schema.js';

/**
 * Follows the Rego snippets services publish in Consul KV (`<policyPrefix><service>`) with a
 * blocking query, and hands the full set to `onSnippets` whenever it changes. Returns the stop
 * function.
 */
export function watchPolicySnippets(cfg: ConsulSourceConfig, logger: Logger, onSnippets: (snippets: ReadonlyMap<string, string>) => void): () => Promise<void> {
  return watchKvFolder(cfg, cfg.policyPrefix, 'service policies', logger, onSnippets);
}
