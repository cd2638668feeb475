#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import type { GatewayConfig } from './config/schema.js';
import { runExtProc } from './extproc/run.js';
import { runStandalone } from './standalone/run.js';
import { toolsCommand, ToolsUsageError, TOOLS_USAGE } from './cli-tools.js';

const USAGE = `usage: mcp-gateway standalone --config <file.yaml> [--host H] [--port P] [--admin-port P]
       mcp-gateway envoy --config <file.yaml> [--host H] [--broker-port P] [--extproc-port P] [--xds-port P] [--admin-port P]
       mcp-gateway tools pending|approve --url <admin URL> … (pinned definitions; see below)

Commands:
  standalone   run the gateway as one process (MCP Streamable HTTP on <host>:<port><server.path>)
  envoy        run the gateway process of the Envoy topology: the broker (MCP on
               <host>:<broker-port><server.path>), the ext_proc gRPC service and the xDS server
               that Envoy (envoy/envoy.yaml) calls; see docs/envoy-topology.md.
               --host applies to all three; without it the broker uses server.host and the
               other two 127.0.0.1. A port of 0 picks a free one.

--admin-port   serve /healthz and metrics on admin.host (127.0.0.1 by default) at this port
               instead of admin.port. In the Envoy topology they are only ever served there.

${TOOLS_USAGE}`;

/** A command line that cannot be used: reported with exit code 2, like an invalid configuration. */
class UsageError extends Error {}

/** What a command leaves running until a signal stops it. */
interface Running {
  readonly core: { readonly config: { readonly server: { readonly shutdownGraceMs: number } } };
  stop(graceMs?: number): Promise<void>;
}

const CONFIG_OPTION = { config: { type: 'string', short: 'c' } } as const;
const ADMIN_OPTION = { 'admin-port': { type: 'string' } } as const;

/** A port flag's value: an integer 0-65535 (0: any free port), or undefined when the flag is absent. */
function portOption(flag: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`--${flag} must be a port number, got "${value}"`);
  return port;
}

function loadConfig(file: string | undefined): Promise<Readonly<GatewayConfig>> {
  if (!file) throw new UsageError(`missing --config\n${USAGE}`);
  return loadConfigFile(file);
}

async function standalone(args: string[]): Promise<Running> {
  const { values } = parseArgs({ args, options: { ...CONFIG_OPTION, ...ADMIN_OPTION, host: { type: 'string' }, port: { type: 'string' } }, strict: true });
  const port = portOption('port', values.port);
  const adminPort = portOption('admin-port', values['admin-port']);
  const config = await loadConfig(values.config);
  return runStandalone(config, { host: values.host || undefined, port, adminPort });
}

async function envoy(args: string[]): Promise<Running> {
  const { values } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, ...ADMIN_OPTION, host: { type: 'string' }, 'broker-port': { type: 'string' }, 'extproc-port': { type: 'string' }, 'xds-port': { type: 'string' } },
    strict: true,
  });
  const brokerPort = portOption('broker-port', values['broker-port']);
  const extprocPort = portOption('extproc-port', values['extproc-port']);
  const xdsPort = portOption('xds-port', values['xds-port']);
  const adminPort = portOption('admin-port', values['admin-port']);
  const config = await loadConfig(values.config);
  const host = values.host || undefined;
  return runExtProc(config, { brokerHost: host, brokerPort, extprocHost: host, extprocPort, xdsHost: host, xdsPort, adminPort });
}

const COMMANDS: Record<string, (args: string[]) => Promise<Running>> = { standalone, envoy };

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === 'tools') {
    return toolsCommand(rest).catch((err: unknown) => {
      if (err instanceof ToolsUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) throw err;
      process.stderr.write(`${(err as Error).message}\n`);
      return 1;
    });
  }
  const run = command !== undefined && Object.hasOwn(COMMANDS, command) ? COMMANDS[command] : undefined;
  if (!run) {
    process.stderr.write(`${command ? `unknown command "${command}"\n` : ''}${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  const running = await run(rest);
  // SIGTERM and SIGINT drain: running calls get server.shutdownGraceMs, then the rest are cut.
  const stop = (): void => void running.stop(running.core.config.server.shutdownGraceMs).then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof UsageError || err instanceof ToolsUsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
