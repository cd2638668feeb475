/**
 * The Envoy topology's gateway process: one core (sessions, identity, policy, catalog) serving
 * the ext_proc gRPC service Envoy consults, the broker HTTP server Envoy routes to, and the xDS
 * server that tells Envoy the clusters of native MCP backends. They share the core, so a session
 * the broker creates is one admission can see, and a decision ext_proc made is one the broker
 * carries out without admitting the request again (DecisionHandoff).
 */
import type { GatewayConfig } from '../config/schema.js';
import { DecisionHandoff } from '../admission/handoff.js';
import { createGateway, type GatewayCore } from '../gateway.js';
import { clusterName, envoyRoutable } from '../xds/clusters.js';
import { XdsFeed } from '../xds/feed.js';
import { XdsServer } from '../xds/server.js';
import { AdminServer } from '../standalone/admin.js';
import { StandaloneServer } from '../standalone/server.js';
import { createLogger } from '../telemetry/logger.js';
import { ExtProcServer } from './server.js';
import { originMatcher } from '../admission/origin.js';
import { listening } from '../listen-error.js';

export interface ExtProcListen {
  /** Where the broker listens; defaults to the configuration's `server.host`/`server.port`. */
  readonly brokerHost?: string;
  readonly brokerPort?: number;
  /** Where the ext_proc gRPC service listens; 127.0.0.1 and a free port by default. */
  readonly extprocHost?: string;
  readonly extprocPort?: number;
  /** Where the xDS (ADS) server listens; 127.0.0.1 and a free port by default. */
  readonly xdsHost?: string;
  readonly xdsPort?: number;
  /** Where `/healthz` and metrics are served; defaults to `admin.host`/`admin.port` (a free port when absent). */
  readonly adminHost?: string;
  readonly adminPort?: number;
}

export interface RunningExtProc {
  readonly core: GatewayCore;
  /** The broker's MCP endpoint URL (Envoy's `broker` cluster points here). */
  readonly brokerUrl: string;
  readonly extprocPort: number;
  /** Envoy's `xds` cluster points here. */
  readonly xdsPort: number;
  /** Base URL of `/healthz` and metrics (never reachable through Envoy). */
  readonly adminUrl: string;
  /** The ext_proc service alone (tests stop it to check that Envoy fails closed). */
  readonly extproc: ExtProcServer;
  /** Stop; running calls get `graceMs` to finish first (SIGTERM: `server.shutdownGraceMs`; default: none on the broker, 5 s for ext_proc streams). */
  stop(graceMs?: number): Promise<void>;
}

export async function runExtProc(config: Readonly<GatewayConfig>, listen: ExtProcListen = {}): Promise<RunningExtProc> {
  const logger = createLogger(config.logging.level);
  const core = await createGateway(config, { logger });
  await core.start();
  const handoff = new DecisionHandoff();
  // The broker serves MCP only: health and metrics live on the admin listener, out of Envoy's reach.
  const broker = new StandaloneServer(core, { handoff });
  const admin = new AdminServer(core);
  const extproc = new ExtProcServer({
    decide: (req, screened) => core.admission.decide(req, screened),
    screen: (req) => core.admission.screen(req),
    mcpPath: config.server.path,
    maxBodyBytes: config.server.maxBodyBytes,
    originAllowed: originMatcher(config.server.allowedOrigins),
    logger: logger.child({ component: 'extproc' }),
    handoff,
    direct: { calls: core.direct, routable: envoyRoutable, cluster: clusterName },
  });
  const xds = new XdsServer({ logger: logger.child({ component: 'xds' }) });
  const feed = new XdsFeed({ catalog: core.catalog, server: xds, logger: logger.child({ component: 'xds' }) });
  // Envoy's calls get the grace period on both paths: ext_proc streams (routed calls) and the broker.
  const stop = async (graceMs?: number): Promise<void> => {
    await Promise.all([extproc.stop(graceMs, () => core.direct.cutAll()), broker.drain(graceMs ?? 0).catch(() => undefined)]);
    feed.stop();
    await xds.stop();
    await admin.close();
    await core.stop();
  };
  try {
    await feed.start();
    const xdsPort = await listening('xds', listen.xdsHost ?? '127.0.0.1', listen.xdsPort ?? 0, (h, p) => xds.start(h, p));
    const brokerUrl = await listening('broker', listen.brokerHost ?? config.server.host, listen.brokerPort ?? config.server.port, (h, p) => broker.listen(h, p));
    const extprocPort = await listening('extproc', listen.extprocHost ?? '127.0.0.1', listen.extprocPort ?? 0, (h, p) => extproc.start(h, p));
    const adminUrl = await listening('admin', listen.adminHost ?? config.admin.host, listen.adminPort ?? config.admin.port ?? 0, (h, p) => admin.listen(h, p));
    logger.info({ brokerUrl, extprocPort, xdsPort, adminUrl }, 'ext_proc service, broker, xDS server and admin endpoints listening');
    return { core, brokerUrl, extprocPort, xdsPort, adminUrl, extproc, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}
