/** The CLI's help texts, built from the flag table so every flag and its variable is listed. */
import { COMMAND_FLAGS, type CommandName, type FlagSpec } from './options.js';

const SUMMARIES: Record<CommandName, { line: string; more: string }> = {
  standalone: {
    line: 'run the gateway as one process',
    more: 'Serves MCP Streamable HTTP on <host>:<port><server.path>. Without an admin port, /livez, /readyz,\n/healthz and metrics are served on the MCP listener. SIGTERM and SIGINT drain (server.shutdownGraceMs).',
  },
  envoy: {
    line: 'run the gateway process of the Envoy topology (broker, ext_proc, xDS)',
    more: 'Serves the broker (MCP on <host>:<broker-port><server.path>), the ext_proc gRPC service and the xDS\nserver that Envoy (envoy/envoy.yaml) calls; see docs/envoy-topology.md. Health and metrics are on\nthe admin listener (a free port unless given); the broker answers /livez too, for Envoy\'s health checks.',
  },
  validate: {
    line: 'check a configuration without starting anything',
    more: 'Checks the schema (every bad key named), that the files it names exist (policy files, service\npolicies, the audit file\'s directory; relative paths from the current directory, as the gateway\nreads them), and, with policy.engine opa, that the gateway\'s base module and those Rego files\ncompile together (opa check). Nothing is contacted: not OPA, Consul, Hazelcast nor the issuer.',
  },
};

const EXIT_CODES = `exit codes:
  0  done (validate: the configuration is valid)
  1  failed while running
  2  bad command line, or an invalid configuration (validate: invalid)
  3  a listener's address is in use`;

function flagColumn(name: string, spec: FlagSpec): string {
  return `${spec.short ? `-${spec.short}, ` : '    '}--${name} ${spec.value}`;
}

function synopsis(command: CommandName): string {
  const flags = Object.entries(COMMAND_FLAGS[command] as Record<string, FlagSpec>).map(([name, spec]) =>
    name === 'config' ? `--config ${spec.value}` : `[--${name} ${spec.value.replace(/[<>]/g, '').toUpperCase()}]`,
  );
  return `mcp-gateway ${command} ${flags.join(' ')}`;
}

/** `mcp-gateway --help`: every command in one screen. */
export function generalHelp(): string {
  const commands = Object.keys(COMMAND_FLAGS) as CommandName[];
  return `usage: ${commands.map(synopsis).join('\n       ')}
       mcp-gateway tools pending|approve --url <admin URL> … (pinned definitions: mcp-gateway help tools)
       mcp-gateway help [command]
       mcp-gateway version

commands:
${commands.map((c) => `  ${c.padEnd(12)} ${SUMMARIES[c].line}`).join('\n')}
  ${'tools'.padEnd(12)} list and approve pinned tool definitions on a running gateway (docs/tool-pinning.md)
  ${'help'.padEnd(12)} show this help, or a command's flags and environment variables
  ${'version'.padEnd(12)} print the version

Every command also takes --help (-h) and --version (-V). A flag not given on the command line is
read from its environment variable (MCP_GATEWAY_<FLAG>, e.g. MCP_GATEWAY_ADMIN_PORT); a port
flag or variable wins over the configuration file's key.

${EXIT_CODES}
`;
}

/** `mcp-gateway help <command>`, `mcp-gateway <command> --help`. */
export function commandHelp(command: CommandName): string {
  const flags = Object.entries(COMMAND_FLAGS[command] as Record<string, FlagSpec>);
  const width = Math.max(...flags.map(([n, s]) => flagColumn(n, s).length));
  const rows = flags.map(([name, spec]) => `  ${flagColumn(name, spec).padEnd(width)}  ${spec.help}\n  ${''.padEnd(width)}  env ${spec.env}`);
  return `usage: ${synopsis(command)}

${SUMMARIES[command].line}.
${SUMMARIES[command].more}

flags:
${rows.join('\n')}
  ${'-h, --help'.padEnd(width)}  this help
  ${'-V, --version'.padEnd(width)}  print the version

${EXIT_CODES}
`;
}
