#!/usr/bin/env node
/**
 * `mcp-gateway`: run the gateway (standalone or as the Envoy topology's process), or validate a
 * configuration. Exit codes are part of the interface (scripts and probes read them): 0 done,
 * 1 failed while running, 2 bad command line or invalid configuration, 3 an address in use.
 * The servers are imported when a command runs them: help, version and validate answer without
 * loading gRPC, Hazelcast and the rest (seconds on a busy machine).
 */
import { ConfigError, loadConfigFile } from './config/load.js';
import { AddressInUseError } from './listen-error.js';
import { VERSION } from './version.js';
import { commandHelp, generalHelp } from './cli/help.js';
import { COMMAND_FLAGS, UsageError, parseFlags, portAdvice, type CommandName, type Flags } from './cli/options.js';
import { onPath } from './cli/rego-check.js';
import { validateConfigFile } from './cli/validate.js';
import { toolsCommand, ToolsUsageError, TOOLS_USAGE } from './cli-tools.js';

const EXIT = { ok: 0, failed: 1, usage: 2, addressInUse: 3 } as const;

/** What a command leaves running until a signal stops it. */
interface Running {
  readonly core: { readonly config: { readonly server: { readonly shutdownGraceMs: number } } };
  stop(graceMs?: number): Promise<void>;
}

/** A command either finishes with an exit code or leaves servers running. */
type Outcome = number | Running;

async function standalone(flags: Flags): Promise<Outcome> {
  const port = flags.port('port');
  const adminPort = flags.port('admin-port');
  const config = await loadConfigFile(flags.config());
  const { runStandalone } = await import('./standalone/run.js');
  return runStandalone(config, { host: flags.get('host'), port, adminPort });
}

async function envoy(flags: Flags): Promise<Outcome> {
  const brokerPort = flags.port('broker-port');
  const extprocPort = flags.port('extproc-port');
  const xdsPort = flags.port('xds-port');
  const adminPort = flags.port('admin-port');
  const config = await loadConfigFile(flags.config());
  const host = flags.get('host');
  const { runExtProc } = await import('./extproc/run.js');
  return runExtProc(config, { brokerHost: host, brokerPort, extprocHost: host, extprocPort, xdsHost: host, xdsPort, adminPort });
}

async function validate(flags: Flags): Promise<Outcome> {
  const file = flags.config();
  const { problems, checked, skipped } = await validateConfigFile(file, flags.get('opa') ?? onPath('opa'));
  if (problems.length > 0) {
    process.stderr.write(`${file}: invalid\n${problems.map((p) => `  ${p.replace(/\n/g, '\n  ')}`).join('\n')}\n`);
    return EXIT.usage;
  }
  process.stdout.write(`${file}: valid\n${checked.map((c) => `  ${c}\n`).join('')}`);
  for (const s of skipped) process.stderr.write(`  warning: ${s}\n`);
  return EXIT.ok;
}

const COMMANDS: Record<CommandName, (flags: Flags) => Promise<Outcome>> = { standalone, envoy, validate };

function isCommand(name: string | undefined): name is CommandName {
  return name !== undefined && Object.hasOwn(COMMAND_FLAGS, name);
}

/** The command line's command, so a failure can be explained in its terms. */
let current: CommandName | undefined;

/** Answer on stdout (help, version: what was asked for). */
function print(text: string): number {
  process.stdout.write(text);
  return EXIT.ok;
}

async function main(argv: string[]): Promise<Outcome> {
  const [first, ...rest] = argv;
  if (first === undefined) {
    process.stderr.write(generalHelp());
    return EXIT.usage;
  }
  if (first === '--help' || first === '-h') return print(generalHelp());
  if (first === '--version' || first === '-V' || first === 'version') return print(`${VERSION}\n`);
  if (first === 'help' && rest[0] === 'tools') return print(`${TOOLS_USAGE}\n`);
  if (first === 'help') {
    const [topic] = rest;
    if (topic === undefined) return print(generalHelp());
    if (!isCommand(topic)) throw new UsageError(`no help for "${topic}": not a command (${Object.keys(COMMAND_FLAGS).join(', ')})`);
    return print(commandHelp(topic));
  }
  if (first === 'tools') {
    // The operator's side of pinned definitions: it talks to a running gateway (src/cli-tools.ts).
    if (rest.includes('--help') || rest.includes('-h')) return print(`${TOOLS_USAGE}\n`);
    return toolsCommand(rest).catch((err: unknown) => {
      if (err instanceof ToolsUsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) throw err;
      process.stderr.write(`${(err as Error).message}\n`);
      return EXIT.failed;
    });
  }
  if (!isCommand(first)) throw new UsageError(`unknown command "${first}"\n${generalHelp()}`);
  current = first;
  const { flags, meta } = parseFlags(first, rest, process.env);
  if (meta === 'help') return print(commandHelp(first));
  if (meta === 'version') return print(`${VERSION}\n`);
  return COMMANDS[first](flags);
}

/** The one line an operator reads for a failed start, and its exit code. */
function explain(err: unknown): { line: string; code: number } {
  if (err instanceof UsageError || err instanceof ToolsUsageError || err instanceof ConfigError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
    return { line: (err as Error).message, code: EXIT.usage };
  }
  if (err instanceof AddressInUseError) {
    const advice = current ? portAdvice(current, err.listener) : undefined;
    return { line: `mcp-gateway: ${err.message}${advice ? `; ${advice}` : ''}`, code: EXIT.addressInUse };
  }
  return { line: (err as Error).stack ?? String(err), code: EXIT.failed };
}

main(process.argv.slice(2)).then(
  (outcome) => {
    if (typeof outcome === 'number') {
      process.exitCode = outcome;
      return;
    }
    // SIGTERM and SIGINT drain: running calls get server.shutdownGraceMs, then the rest are cut.
    const stop = (): void => void outcome.stop(outcome.core.config.server.shutdownGraceMs).then(() => process.exit(EXIT.ok));
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  },
  (err: unknown) => {
    const { line, code } = explain(err);
    process.stderr.write(`${line}\n`);
    process.exit(code);
  },
);
