import type { Logger } from 'pino';
import { formatIssues } from '../../config/load.js';
import { virtualServerSchema, type VirtualServerConfig } from '../../config/virtual-server-schema.js';
import type { ConsulSourceConfig } from '../../config/schema.js';
import type { VirtualServers } from '../virtual-servers.js';
import { watchKvFolder } from './kv-folder.js';

/** One KV value as a virtual server: its key names it (a `name` in the value must agree). */
export function parseKvVirtualServer(key: string, name: string, text: string): { server: VirtualServerConfig } | { problem: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { problem: `${key}: not valid JSON: ${(err as Error).message}` };
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { problem: `${key}: must be a JSON object` };
  const named = value as Record<string, unknown>;
  if (named.name !== undefined && named.name !== name) return { problem: `${key}: "name" is "${String(named.name)}" but the key names "${name}"` };
  const parsed = virtualServerSchema.safeParse({ ...named, name });
  return parsed.success ? { server: parsed.data } : { problem: `${key}:\n${formatIssues(parsed.error.issues)}` };
}

/**
 * The virtual servers Consul KV holds under `prefix`. A value that is not a valid virtual server
 * is logged and its last good version stays in force (none: the server does not exist), so a
 * bad edit never widens or drops an endpoint's tools by surprise.
 */
export class KvVirtualServers {
  private good = new Map<string, VirtualServerConfig>();
  private readonly texts = new Map<string, string>();

  constructor(
    private readonly prefix: string,
    private readonly logger: Logger,
  ) {}

  /** The servers in force after Consul's folder became `entries`. */
  take(entries: ReadonlyMap<string, string>): ReadonlyMap<string, VirtualServerConfig> {
    const next = new Map<string, VirtualServerConfig>();
    for (const [name, text] of entries) {
      const before = this.good.get(name);
      if (this.texts.get(name) === text && before) {
        next.set(name, before);
        continue;
      }
      this.texts.set(name, text);
      const parsed = parseKvVirtualServer(`${this.prefix}${name}`, name, text);
      if ('server' in parsed) next.set(name, parsed.server);
      else {
        this.logger.error({ problem: parsed.problem }, before ? 'invalid virtual server in consul; keeping its last good version' : 'invalid virtual server in consul; not served');
        if (before) next.set(name, before);
      }
    }
    for (const name of this.texts.keys()) if (!entries.has(name)) this.texts.delete(name);
    this.good = next;
    return next;
  }
}

/** Follow `<virtualServerPrefix><name>` in Consul KV into `servers`. Returns the stop function. */
export function watchVirtualServers(cfg: ConsulSourceConfig, servers: VirtualServers, logger: Logger): () => Promise<void> {
  const parsed = new KvVirtualServers(cfg.virtualServerPrefix, logger);
  return watchKvFolder(cfg, cfg.virtualServerPrefix, 'virtual servers', logger, (entries) => servers.setFromConsul(parsed.take(entries)));
}
