import type { Logger } from 'pino';
import { ConfigError } from '../config/load.js';
import { endpointOf } from '../endpoint.js';
import { DEFAULT_SERVER, type VirtualServerConfig } from '../config/virtual-server-schema.js';
import type { BackendDescriptor } from './model.js';
import { buildSnapshot, type CatalogSnapshot } from './snapshot.js';
import { buildView } from './virtual-view.js';

/** One MCP endpoint: `/mcp` (name null) or a virtual server `/mcp/<name>`. */
export interface VirtualServer {
  /** Null for the default endpoint, which policies, audit events and sessions see as null. */
  readonly name: string | null;
  /** The `instructions` of its initialize result. */
  readonly instructions?: string;
  /** Scopes a token needs on this endpoint (besides `auth.requiredScopes`). */
  readonly scopes: readonly string[];
  /** The catalog as this endpoint shows it. */
  view(base: CatalogSnapshot): CatalogSnapshot;
}

/** The default endpoint when nothing configures it: the whole catalog, as before virtual servers. */
export const WHOLE_CATALOG: VirtualServer = { name: null, scopes: [], view: (base) => base };

/** A configured server; its view is built once per catalog snapshot. */
function configured(cfg: VirtualServerConfig, onProblems: (problems: readonly string[]) => void): VirtualServer {
  const views = new WeakMap<CatalogSnapshot, CatalogSnapshot>();
  return {
    name: cfg.name === DEFAULT_SERVER ? null : cfg.name,
    ...(cfg.instructions === undefined ? {} : { instructions: cfg.instructions }),
    scopes: cfg.scopes,
    view(base) {
      let view = views.get(base);
      if (!view) {
        view = buildView(base, cfg);
        views.set(base, view);
        if (view.problems.length > 0) onProblems(view.problems);
      }
      return view;
    },
  };
}

/**
 * The virtual servers in force: those of the configuration file, and those Consul KV holds
 * (a file entry wins over a Consul entry of the same name). Reads are lock-free: a Consul change
 * builds a new map and swaps it in.
 */
export class VirtualServers {
  private readonly fromFile: ReadonlyMap<string, VirtualServerConfig>;
  private servers: ReadonlyMap<string, VirtualServer>;
  private fromConsul: ReadonlyMap<string, VirtualServerConfig> = new Map();
  private readonly reported = new Set<string>();

  constructor(
    list: readonly VirtualServerConfig[],
    /** `server.path`: virtual servers live at `<path>/<name>`. */
    readonly basePath: string,
    private readonly logger: Logger,
  ) {
    this.fromFile = new Map(list.map((vs) => [vs.name, vs]));
    this.servers = this.build();
  }

  /** The endpoint a request names (null: `/mcp`); undefined for a name no server has. */
  find(name: string | null): VirtualServer | undefined {
    return this.servers.get(name ?? DEFAULT_SERVER) ?? (name === null ? WHOLE_CATALOG : undefined);
  }

  /**
   * The endpoint a request's path and query address; undefined for `<path>/<name>` of a name no
   * server has. Any other path is the default endpoint (the adapters answer 404 to those first).
   */
  forUrl(url: string | undefined): VirtualServer | undefined {
    return this.find(endpointOf(url ?? this.basePath, this.basePath) ?? null);
  }

  /** Names of the virtual servers in force (the default endpoint's configuration as `default`). */
  names(): string[] {
    return [...this.servers.keys()].sort();
  }

  /** Take the full set Consul holds now (keys `<virtualServerPrefix><name>`). */
  setFromConsul(servers: ReadonlyMap<string, VirtualServerConfig>): void {
    for (const name of servers.keys()) {
      if (this.fromFile.has(name)) this.report(`virtual server "${name}" in Consul is ignored: the configuration file defines it`);
    }
    this.fromConsul = servers;
    this.servers = this.build();
    this.logger.info({ virtualServers: this.names() }, 'virtual servers updated');
  }

  private build(): ReadonlyMap<string, VirtualServer> {
    const out = new Map<string, VirtualServer>();
    const problems = (p: readonly string[]): void => p.forEach((x) => this.report(x));
    for (const [name, cfg] of this.fromConsul) out.set(name, configured(cfg, problems));
    for (const [name, cfg] of this.fromFile) out.set(name, configured(cfg, problems));
    return out;
  }

  /** Each distinct problem once (views are rebuilt with every catalog change). */
  private report(problem: string): void {
    if (this.reported.has(problem)) return;
    if (this.reported.size > 1_000) this.reported.clear();
    this.reported.add(problem);
    this.logger.error({ problem }, 'virtual server problem');
  }
}

/**
 * Refuse a configuration whose virtual servers rename onto a name another selected entry keeps,
 * among the tools and prompts the file itself defines (REST backends). Names discovered later
 * are checked per snapshot and reported.
 */
export function assertNoStaticRenameCollisions(list: readonly VirtualServerConfig[], backends: readonly BackendDescriptor[], separator: string): void {
  const base = buildSnapshot({ version: 0, backends, discovered: new Map(), separator, pageSize: 1 });
  const problems = list.flatMap((vs, i) => buildView(base, vs).problems.map((p) => `  virtualServers[${i}].rename: ${p}`));
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
