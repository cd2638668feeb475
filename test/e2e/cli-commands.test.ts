/**
 * The CLI's help, version and `validate`, run as a user runs them: the built CLI in a child
 * process, Rego compiled by the real OPA binary scripts/install-components.sh installs.
 */
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { opaBin } from '../harness/components.js';
import { configFile, runCli } from '../support/cli.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const VERSION = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const withOpa = { env: { ...process.env, OPA_BIN: opaBin() } };

/** Each command's flags and the environment variable behind each, as the help must show them. */
const FLAGS = {
  standalone: [['--config', 'MCP_GATEWAY_CONFIG'], ['--host', 'MCP_GATEWAY_HOST'], ['--port', 'MCP_GATEWAY_PORT'], ['--admin-port', 'MCP_GATEWAY_ADMIN_PORT']],
  envoy: [['--broker-port', 'MCP_GATEWAY_BROKER_PORT'], ['--extproc-port', 'MCP_GATEWAY_EXTPROC_PORT'], ['--xds-port', 'MCP_GATEWAY_XDS_PORT'], ['--admin-port', 'MCP_GATEWAY_ADMIN_PORT']],
  validate: [['--config', 'MCP_GATEWAY_CONFIG'], ['--opa', 'OPA_BIN']],
} as const;

describe('mcp-gateway help and version', () => {
  it('prints the overview on --help, -h and help, listing every command and the exit codes', async () => {
    const answers = await Promise.all([['--help'], ['-h'], ['help']].map((args) => runCli(args)));
    for (const answer of answers) {
      expect(answer.code).toBe(0);
      expect(answer.stdout).toBe(answers[0]!.stdout);
    }
    for (const command of ['standalone', 'envoy', 'validate', 'help', 'version']) expect(answers[0]!.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    expect(answers[0]!.stdout).toContain('3  a listener\'s address is in use');
  });

  for (const [command, flags] of Object.entries(FLAGS)) {
    it(`explains ${command} with help ${command}, ${command} --help and ${command} -h (without needing --config)`, async () => {
      const answers = await Promise.all([['help', command], [command, '--help'], [command, '-h']].map((args) => runCli(args)));
      for (const answer of answers) {
        expect(answer.code).toBe(0);
        expect(answer.stdout).toBe(answers[0]!.stdout);
      }
      expect(answers[0]!.stdout).toMatch(new RegExp(`^usage: mcp-gateway ${command} --config <file>`));
      for (const [flag, env] of flags) expect(answers[0]!.stdout).toMatch(new RegExp(`${flag} <\\w+>[^\\n]*\\n\\s+env ${env}\\n`));
    });
  }

  it('prints the package version on --version, -V and version, for every command too', async () => {
    const runs = [['--version'], ['-V'], ['version'], ['standalone', '--version'], ['envoy', '-V'], ['validate', '--version']];
    for (const answer of await Promise.all(runs.map((args) => runCli(args)))) expect(answer).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
  });

  it('exits 2 with the usage on stderr for no command, an unknown one, or help about an unknown one', async () => {
    const none = await runCli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('usage: mcp-gateway standalone');
    const topic = await runCli(['help', 'serve']);
    expect(topic.code).toBe(2);
    expect(topic.stderr).toContain('no help for "serve"');
    const flag = await runCli(['validate', '--confg', 'x.yaml']);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toContain("Unknown option '--confg'");
    expect(flag.stderr).toContain('mcp-gateway help validate');
  });
});

/** A directory with a configuration using OPA and the Rego files it names (relative names resolve there). */
async function opaConfig(files: Record<string, string>, policy: string, extra = ''): Promise<string> {
  const file = await configFile(`policy:\n  engine: opa\n  url: http://127.0.0.1:1\n${policy}${extra}`);
  for (const [name, text] of Object.entries(files)) await writeFile(join(dirname(file), name), text);
  return file;
}

const GLOBAL = 'package mcp.policy\n\nimport rego.v1\n\nallow if input.principal.subject == "alice"\n';
const ORDERS = 'package mcp.services.orders\n\nimport rego.v1\n\ndeny contains "no cancelling" if input.request.tool == "cancel_order"\n';

describe('mcp-gateway validate', () => {
  it('accepts the compose configuration, compiling its Rego with the base module, and says what it checked', async () => {
    const { code, stdout, stderr } = await runCli(['validate', '--config', 'examples/gateway.compose.yaml'], { ...withOpa, cwd: ROOT });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^examples\/gateway\.compose\.yaml: valid\n/);
    expect(stdout).toContain('files: 2 named, all readable');
    expect(stdout).toContain("rego: 3 module(s) compile together");
  });

  it('contacts nothing: not the OPA the configuration names', async () => {
    let hits = 0;
    const opa = createServer((_req, res) => {
      hits += 1;
      res.end('{}');
    });
    await new Promise<void>((r) => opa.listen(0, '127.0.0.1', r));
    try {
      const port = (opa.address() as { port: number }).port;
      const file = await configFile(`policy: { engine: opa, url: "http://127.0.0.1:${port}", policyFiles: [global.rego] }\n`);
      await writeFile(join(dirname(file), 'global.rego'), GLOBAL);
      expect((await runCli(['validate', '-c', 'gateway.yaml'], { ...withOpa, cwd: dirname(file) })).code).toBe(0);
      expect(hits).toBe(0);
    } finally {
      opa.close();
    }
  });

  it('refuses Rego that does not compile, naming file, line and column, and exits 2', async () => {
    const file = await opaConfig({ 'global.rego': 'package mcp.policy\n\nimport rego.v1\n\nallow if { input.x == }\n' }, '  policyFiles: [global.rego]\n');
    const { code, stderr } = await runCli(['validate', '--config', file], { ...withOpa, cwd: dirname(file) });
    expect(code).toBe(2);
    expect(stderr).toContain(`${file}: invalid`);
    expect(stderr).toMatch(/rego: global\.rego:5:\d+: rego_parse_error: /);
  });

  it("refuses a policy file that clashes with the gateway's own base module (compiled together, as OPA holds them)", async () => {
    const file = await opaConfig({ 'clash.rego': 'package mcp.gateway\n\nimport rego.v1\n\ndecision contains 1\n' }, '  policyFiles: [clash.rego]\n');
    const { code, stderr } = await runCli(['validate', '--config', file], { ...withOpa, cwd: dirname(file) });
    expect(code).toBe(2);
    expect(stderr).toMatch(/rego: .*base\.rego:\d+:\d+: rego_type_error: conflicting rules data\.mcp\.gateway\.decision/);
  });

  it('refuses missing files and a service policy that speaks for another service, naming the keys', async () => {
    const file = await opaConfig(
      { 'global.rego': GLOBAL, 'orders.rego': ORDERS },
      '  policyFiles: [global.rego, missing.rego]\n  servicePolicies: { orders: orders.rego, billing: orders.rego }\n',
      'audit: { sink: file, file: /nonexistent-dir/audit.jsonl }\n',
    );
    const { code, stderr } = await runCli(['validate', '--config', file], { ...withOpa, cwd: dirname(file) });
    expect(code).toBe(2);
    expect(stderr).toContain('policy.policyFiles[1]: cannot read missing.rego (ENOENT)');
    expect(stderr).toContain('policy.servicePolicies.billing: orders.rego must declare package mcp.services.billing');
    expect(stderr).not.toContain('policy.servicePolicies.orders');
    expect(stderr).toContain('audit.file: cannot write in /nonexistent-dir');
  });

  it('refuses a schema error with the bad key and no stack trace', async () => {
    const file = await configFile('server: { port: 99999 }\n');
    const { code, stderr } = await runCli(['validate', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('server.port');
    expect(stderr).not.toMatch(/^\s+at /m);
  });

  it('without an opa binary, passes what it could check and warns that the Rego was not compiled', async () => {
    const file = await opaConfig({ 'global.rego': GLOBAL }, '  policyFiles: [global.rego]\n');
    const { code, stdout, stderr } = await runCli(['validate', '--config', file], { env: { PATH: '/nonexistent' }, cwd: dirname(file) });
    expect(code).toBe(0);
    expect(stdout).toContain('valid');
    expect(stderr).toContain('warning: rego: not compiled, no opa binary');
  });

  it('refuses an --opa that cannot run, with exit 2 and no stack trace', async () => {
    const { code, stderr } = await runCli(['validate', '--config', 'examples/gateway.compose.yaml', '--opa', '/nonexistent/opa'], { cwd: ROOT });
    expect(code).toBe(2);
    expect(stderr.trim()).toBe('--opa (or OPA_BIN): cannot run /nonexistent/opa: spawn /nonexistent/opa ENOENT');
  });

  it('reads --config from MCP_GATEWAY_CONFIG', async () => {
    const file = await configFile('logging: { level: warn }\n');
    const { code, stdout } = await runCli(['validate'], { env: { ...process.env, MCP_GATEWAY_CONFIG: file } });
    expect(code).toBe(0);
    expect(stdout).toContain(`${file}: valid`);
  });
});
