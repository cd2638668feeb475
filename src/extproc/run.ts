/**
 * The Envoy topology's gateway process: one core (sessions, identity, policy, catalog) serving
 * both the ext_proc gRPC service Envoy consults and the broker HTTP server Envoy routes to. Both
 * share the core, so a session the broker creates is one admission can see.
 *
 * The broker is the standalone server and runs admission again on what Envoy forwards: twice
 * the work for forwarded requests, the same result, until the broker trusts Envoy's verdict.
 */
import type { GatewayConfig } from '../config/schema.js';
import { createGateway, type GatewayCore } from '../standalone/gateway.js';
import { StandaloneServer } from '../standalone/server.js';
import { createLogger } from '../telemetry/logger.js';
import { ExtProcServer } from './server.js';

export interface ExtProcListen {
  /** Where the broker listens; defaults to the configuration's `server.host`/`server.port`. */
  readonly brokerHost?: string;
  readonly brokerPort?: number;
  /** Where the ext_proc gRPC service listens; 127.0.0.1 and a free port by default. */
  readonly extprocHost?: string;
  readonly extprocPort?: number;
}

export interface RunningExtProc {
  readonly core: GatewayCore;
  /** The broker's MCP endpoint URL (Envoy's `broker` cluster points here). */
  readonly brokerUrl: string;
  readonly extprocPort: number;
  /** The ext_proc service alone (tests stop it to check that Envoy fails closed). */
  readonly extproc: ExtProcServer;
  stop(): Promise<void>;
}

export async function runExtProc(config: Readonly<GatewayConfig>, listen: ExtProcListen = {}): Promise<RunningExtProc> {
  const logger = createLogger(config.logging.level);
  const core = await createGateway(config, { logger });
  await core.start();
  const broker = new StandaloneServer(core);
  const extproc = new ExtProcServer({
    decide: (req) => core.admission.decide(req),
    mcpPath: config.server.path,
    allowedOrigins: config.server.allowedOrigins,
    logger: logger.child({ component: 'extproc' }),
  });
  try {
    const brokerUrl = await broker.listen(listen.brokerHost, listen.brokerPort);
    const extprocPort = await extproc.start(listen.extprocHost, listen.extprocPort);
    logger.info({ brokerUrl, extprocPort }, 'ext_proc service and broker listening');
    return {
      core,
      brokerUrl,
      extprocPort,
      extproc,
      async stop() {
        await extproc.stop();
        await broker.close();
        await core.stop();
      },
    };
  } catch (err) {
    await extproc.stop();
    await broker.close().catch(() => undefined);
    await core.stop();
    throw err;
  }
}
