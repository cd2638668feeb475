import type { GatewayConfig } from '../config/schema.js';
import { createLogger } from '../telemetry/logger.js';
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
  const url = await server.listen(listen.host, listen.port);
  const adminUrl = admin ? await admin.listen(config.admin.host, adminPort!) : new URL(url).origin;
  const snapshot = core.catalog.current();
  logger.info({ url, adminUrl, tools: snapshot.tools.size, backends: snapshot.backends.size }, 'mcp gateway listening');
  return {
    url,
    adminUrl,
    core,
    async stop(graceMs = 0) {
      await server.drain(graceMs);
      await admin?.close();
      await core.stop();
    },
  };
}
