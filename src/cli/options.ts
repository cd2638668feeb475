/**
 * The CLI's flags, described once: parsing, the environment variable behind each flag, the help
 * text and the advice for a taken port all read this table, so they cannot disagree.
 */
import { parseArgs } from 'node:util';
import type { ListenerName } from '../listen-error.js';

/** A command line that cannot be used: exit code 2, like an invalid configuration. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export interface FlagSpec {
  readonly short?: string;
  /** Placeholder in the help text. */
  readonly value: string;
  readonly help: string;
  /** The environment variable read when the flag is absent (containers set flags this way). */
  readonly env: string;
  /** For port flags: the listener it moves, and the configuration key that also does. */
  readonly listener?: ListenerName;
  readonly configKey?: string;
}

/** `--admin-port` reads `MCP_GATEWAY_ADMIN_PORT`: one rule, so no variable has to be looked up. */
function envOf(flag: string): string {
  return `MCP_GATEWAY_${flag.toUpperCase().replace(/-/g, '_')}`;
}

function flag(name: string, spec: Omit<FlagSpec, 'env'> & { env?: string }): [string, FlagSpec] {
  return [name, { ...spec, env: spec.env ?? envOf(name) }];
}

const CONFIG = flag('config', { short: 'c', value: '<file>', help: 'the configuration file (YAML or JSON; docs/configuration.md)' });
const HOST = flag('host', { value: '<host>', help: 'the address to listen on (default: server.host)' });
const ADMIN_PORT = flag('admin-port', {
  value: '<port>',
  help: 'serve /livez, /readyz, /healthz and metrics on admin.host at this port',
  listener: 'admin',
  configKey: 'admin.port',
});

/** Each command's flags, in help order. */
export const COMMAND_FLAGS = {
  standalone: Object.fromEntries([
    CONFIG,
    HOST,
    flag('port', { value: '<port>', help: 'the MCP port (default: server.port; 0 picks a free one)', listener: 'mcp', configKey: 'server.port' }),
    ADMIN_PORT,
  ]),
  envoy: Object.fromEntries([
    CONFIG,
    flag('host', { value: '<host>', help: 'the address all three listen on (default: server.host for the broker, 127.0.0.1 for the others)' }),
    flag('broker-port', { value: '<port>', help: 'the broker, which Envoy routes MCP to (default: server.port)', listener: 'broker', configKey: 'server.port' }),
    flag('extproc-port', { value: '<port>', help: 'the ext_proc gRPC service Envoy consults (default: a free port)', listener: 'extproc' }),
    flag('xds-port', { value: '<port>', help: 'the xDS server Envoy learns clusters from (default: a free port)', listener: 'xds' }),
    ADMIN_PORT,
  ]),
  validate: Object.fromEntries([
    CONFIG,
    flag('opa', { value: '<path>', help: 'the opa binary that compiles the Rego (default: opa on PATH)', env: 'OPA_BIN' }),
  ]),
} satisfies Record<string, Record<string, FlagSpec>>;

export type CommandName = keyof typeof COMMAND_FLAGS;

/** Whether the command line asks for help or the version rather than a run. */
export type Meta = 'help' | 'version' | undefined;

/** A command's flag values: the command line first, then each flag's environment variable. */
export class Flags {
  constructor(
    private readonly command: CommandName,
    private readonly values: ReadonlyMap<string, { value: string; from: string }>,
  ) {}

  /** The flag's value, or undefined when neither the command line nor the environment gives it. */
  get(name: string): string | undefined {
    return this.values.get(name)?.value;
  }

  /** A port flag's value: an integer 0-65535 (0: any free port), or undefined when it is absent. */
  port(name: string): number | undefined {
    const given = this.values.get(name);
    if (given === undefined) return undefined;
    const port = Number(given.value);
    if (!/^\d+$/.test(given.value) || port > 65535) throw new UsageError(`${given.from} must be a port number, got "${given.value}"`);
    return port;
  }

  /** The `--config` value, which every command needs. */
  config(): string {
    const file = this.get('config');
    if (!file) throw new UsageError(`missing --config <file> (or MCP_GATEWAY_CONFIG)\nsee: mcp-gateway help ${this.command}`);
    return file;
  }
}

/** Parse a command's arguments; unknown flags and stray arguments are usage errors. */
export function parseFlags(command: CommandName, args: string[], env: NodeJS.ProcessEnv): { flags: Flags; meta: Meta } {
  const specs: Record<string, FlagSpec> = COMMAND_FLAGS[command];
  const options: Record<string, { type: 'string' | 'boolean'; short?: string }> = {
    help: { type: 'boolean', short: 'h' },
    version: { type: 'boolean', short: 'V' },
  };
  for (const [name, spec] of Object.entries(specs)) options[name] = { type: 'string', ...(spec.short ? { short: spec.short } : {}) };
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: false });
  } catch (err) {
    throw new UsageError(`${(err as Error).message}\nsee: mcp-gateway help ${command}`);
  }
  const { values } = parsed;
  const meta: Meta = values.help ? 'help' : values.version ? 'version' : undefined;
  const given = new Map<string, { value: string; from: string }>();
  for (const [name, spec] of Object.entries(specs)) {
    const arg = values[name];
    if (typeof arg === 'string') given.set(name, { value: arg, from: `--${name}` });
    else if (env[spec.env]) given.set(name, { value: env[spec.env]!, from: spec.env });
  }
  return { flags: new Flags(command, given), meta };
}

/** How to move a listener of this command elsewhere: its flag, environment variable and configuration key. */
export function portAdvice(command: CommandName, listener: ListenerName): string | undefined {
  const found = Object.entries(COMMAND_FLAGS[command] as Record<string, FlagSpec>).find(([, spec]) => spec.listener === listener);
  if (!found) return undefined;
  const [name, spec] = found;
  return `pick another port with --${name} <port> (or ${spec.env})${spec.configKey ? `, or ${spec.configKey} in the configuration` : ''}`;
}
