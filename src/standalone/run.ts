import type { GatewayConfig } from '../config/schema.js';
import { createLogger } from '../telemetry/logger.js';
import { createGateway, type GatewayCore } from '../gateway.js';
import { StandaloneServer } from './server.js';

export interface RunningGateway {
  readonly url: string;
  readonly core: GatewayCore;
  stop(): Promise<void>;
}

/** Start the one-process gateway from a validated configuration. */
export async function runStandalone(config: Readonly<GatewayConfig>, listen: { host?: string; port?: number } = {}): Promise<RunningGateway> {
  const logger = createLogger(config.logging.level);
  const core = await createGateway(config, { logger });
  await core.start();
  const server = new StandaloneServer(core);
  const url = await server.listen(listen.host, listen.port);
  const snapshot = core.catalog.current();
  logger.info({ url, tools: snapshot.tools.size, backends: snapshot.backends.size }, 'mcp gateway listening');
  return {
    url,
    core,
    async stop() {
      await server.close();
      await core.stop();
    },
  };
}
