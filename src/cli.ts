#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ConfigError, loadConfigFile } from './config/load.js';
import { runStandalone } from './standalone/run.js';

const USAGE = `usage: mcp-gateway standalone --config <file.yaml> [--host H] [--port P]

Commands:
  standalone   run the gateway as one process (MCP Streamable HTTP on <host>:<port><server.path>)`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command !== 'standalone') {
    process.stderr.write(`${command ? `unknown command "${command}"\n` : ''}${USAGE}\n`);
    return command === undefined || command === '--help' || command === '-h' ? 0 : 2;
  }
  const { values } = parseArgs({
    args: rest,
    options: { config: { type: 'string', short: 'c' }, host: { type: 'string' }, port: { type: 'string' } },
    strict: true,
  });
  if (!values.config) {
    process.stderr.write(`missing --config\n${USAGE}\n`);
    return 2;
  }
  const config = await loadConfigFile(values.config);
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) {
    process.stderr.write(`--port must be a port number, got "${values.port}"\n`);
    return 2;
  }
  const running = await runStandalone(config, { ...(values.host ? { host: values.host } : {}), ...(port === undefined ? {} : { port }) });
  const stop = (): void => void running.stop().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  return -1;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exit(code);
  },
  (err: unknown) => {
    if (err instanceof ConfigError || (err as { code?: string }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION') {
      process.stderr.write(`${(err as Error).message}\n`);
      process.exit(2);
    }
    process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
    process.exit(1);
  },
);
