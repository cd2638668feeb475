import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import { Admission } from '../admission/admit.js';
import { Broker } from '../broker/broker.js';
import { StreamHub } from '../broker/streams.js';
import { Catalog } from '../catalog/catalog.js';
import { openCatalogSource } from '../catalog/open.js';
import type { CatalogSource } from '../catalog/source.js';
import { assertNoStaticCollisions } from '../catalog/static-check.js';
import type { GatewayConfig } from '../config/schema.js';
import { openSessionStore } from '../session/open.js';
import type { SessionStore } from '../session/store.js';
import { McpBackends } from '../upstream/mcp-backend.js';
import { Pools } from '../upstream/pool.js';
import { restExecutor } from '../upstream/rest.js';
import { createAgent } from '../upstream/transport.js';
import { VERSION } from '../version.js';

/** The assembled core: what an adapter (standalone HTTP, Envoy ext_proc) drives. */
export interface GatewayCore {
  readonly config: Readonly<GatewayConfig>;
  readonly admission: Admission;
  readonly broker: Broker;
  readonly catalog: Catalog;
  readonly sessions: SessionStore;
  readonly streams: StreamHub;
  readonly logger: Logger;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface GatewayDeps {
  readonly logger: Logger;
  /** Overrides for tests and other topologies; defaults follow the configuration. */
  readonly sessions?: SessionStore;
  readonly source?: CatalogSource;
  readonly dispatcher?: Dispatcher;
}

/** Wire the core from a validated configuration. Rejects with ConfigError for clashing tool names. */
export async function createGateway(config: Readonly<GatewayConfig>, deps: GatewayDeps): Promise<GatewayCore> {
  assertNoStaticCollisions(config.backends, config.catalog.separator);
  const { logger } = deps;
  const sessions = deps.sessions ?? (await openSessionStore(config.sessions, logger));
  const dispatcher = deps.dispatcher ?? createAgent({ connectTimeoutMs: config.upstream.connectTimeoutMs });
  const pools = new Pools(config.upstream.cooldownMs);
  const mcp = new McpBackends({
    dispatcher,
    pools,
    sessions,
    defaultTimeoutMs: config.upstream.timeoutMs,
    logger,
    clientInfo: { name: 'mcp-gateway', version: VERSION },
  });
  const catalog = new Catalog({
    source: deps.source ?? openCatalogSource(config, logger),
    discover: (backend, signal) => mcp.discover(backend, signal),
    separator: config.catalog.separator,
    pageSize: config.catalog.pageSize,
    refreshIntervalMs: config.catalog.refreshIntervalMs,
    logger,
  });
  const streams = new StreamHub();
  const rest = restExecutor({ dispatcher, pools, defaultTimeoutMs: config.upstream.timeoutMs, wantsLog: (call) => Broker.wantsInfo(call.session) });
  const broker = new Broker({ sessions, catalog, rest, mcp, streams, logger, serverInfo: { name: 'mcp-gateway', version: VERSION, title: 'MCP Gateway' } });
  const admission = new Admission({
    allowedOrigins: config.server.allowedOrigins,
    maxBodyBytes: config.server.maxBodyBytes,
    sessions,
    catalog: () => catalog.current(),
  });
  return {
    config,
    admission,
    broker,
    catalog,
    sessions,
    streams,
    logger,
    start: () => catalog.start(),
    async stop() {
      streams.closeAll();
      await catalog.stop();
      await sessions.close();
      if (!deps.dispatcher) await dispatcher.close();
    },
  };
}
