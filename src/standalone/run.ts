import type { GatewayConfig } from '../config/schema.js';
import { createLogger } from '../telemetry/logger.js';
import { listening } from '../listen-error.js';
import { createGateway, type GatewayCore } from '../gateway.js';
import { AdminEndpoints, AdminServer } from './admin.js';
import { StandaloneServer } from './server.js';

export interface RunningGateway {
  readonly url: string;
  /** Base URL of the admin endpoints (`/healthz`, metrics): the admin listener, or the MCP listener's origin. */
  readonly adminUrl: string;
  readonly core: GatewayCore;
  /** Stop; with `graceMs`, running calls get that long to finish first (SIGTERM: `server.shutdownGraceMs`). */
  stop(graceMs?: number): Promise<void>;
}

/** Start the one-process gateway from a validated configuration. */
export async function runStandalone(config: Readonly<GatewayConfig>, listen: { host?: string; port?: number; adminPort?: number } = {}): Promise<RunningGateway> {
  const logger = createLogger(config.logging.level);
  const core = await createGateway(config, { logger });
  await core.start();
  const adminPort = listen.adminPort ?? config.admin.port;
  const admin = adminPort === undefined ? undefined : new AdminServer(core);
  const server = new StandaloneServer(core, admin ? {} : { admin: new AdminEndpoints(core) });
  const stop = async (graceMs = 0): Promise<void> => {
    await server.drain(graceMs);
    await admin?.close();
    await core.stop();
  };
  let url: string;
  let adminUrl: string;
  try {
    url = await listening('mcp', listen.host ?? config.server.host, listen.port ?? config.server.port, (h, p) => server.listen(h, p));
    adminUrl = admin ? await listening('admin', config.admin.host, adminPort!, (h, p) => admin.listen(h, p)) : new URL(url).origin;
  } catch (err) {
    // Nothing stays behind a failed start: the core's connections and a listener already bound.
    await stop();
    throw err;
  }
  const snapshot = core.catalog.current();
  logger.info({ url, adminUrl, tools: snapshot.tools.size, backends: snapshot.backends.size }, 'mcp gateway listening');
  return { url, adminUrl, core, stop };
}
