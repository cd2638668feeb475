/**
 * A port already taken, for every listener the CLI starts (and `npm start`'s): one line that
 * names the flag, its environment variable and the configuration key that pick another, exit 3,
 * no stack trace and nothing left running.
 */
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../harness/ports.js';
import { configFile, runCli, runNode, type CliResult } from '../support/cli.js';
import { waitFor } from '../support/wait.js';
import { spawn } from 'node:child_process';

let taken: Server;
let port: number;
let config: string;

beforeAll(async () => {
  taken = createServer();
  await new Promise<void>((r) => taken.listen(0, '127.0.0.1', r));
  port = (taken.address() as { port: number }).port;
  config = await configFile('logging: { level: warn }\naudit: { sink: off }\n');
});
afterAll(() => new Promise<void>((r) => taken.close(() => r())));

/** The one line of a refused start, checked for what every such refusal must be. */
function refusal(result: CliResult): string {
  expect(result.code, result.stderr).toBe(3);
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toContain(`127.0.0.1:${port}`);
  expect(lines[0]).toContain('already in use');
  return lines[0]!;
}

describe('a taken port', () => {
  const cases: Array<{ listener: string; args: (p: string) => string[]; advice: string }> = [
    { listener: 'standalone MCP', args: (p) => ['standalone', '--port', p], advice: '--port <port> (or MCP_GATEWAY_PORT), or server.port in the configuration' },
    { listener: 'standalone admin', args: (p) => ['standalone', '--port', '0', '--admin-port', p], advice: '--admin-port <port> (or MCP_GATEWAY_ADMIN_PORT), or admin.port in the configuration' },
    { listener: 'envoy broker', args: (p) => ['envoy', '--broker-port', p], advice: '--broker-port <port> (or MCP_GATEWAY_BROKER_PORT), or server.port in the configuration' },
    { listener: 'envoy ext_proc', args: (p) => ['envoy', '--broker-port', '0', '--extproc-port', p], advice: '--extproc-port <port> (or MCP_GATEWAY_EXTPROC_PORT)' },
    { listener: 'envoy xDS', args: (p) => ['envoy', '--broker-port', '0', '--xds-port', p], advice: '--xds-port <port> (or MCP_GATEWAY_XDS_PORT)' },
    { listener: 'envoy admin', args: (p) => ['envoy', '--broker-port', '0', '--admin-port', p], advice: '--admin-port <port> (or MCP_GATEWAY_ADMIN_PORT), or admin.port in the configuration' },
  ];
  for (const { listener, args, advice } of cases) {
    it(`${listener}: one line naming ${advice.split(' ')[0]}, exit 3`, async () => {
      const [command, ...rest] = args(String(port));
      const line = refusal(await runCli([command!, '--config', config, '--host', '127.0.0.1', ...rest]));
      expect(line).toMatch(/^mcp-gateway: cannot listen on /);
      expect(line).toContain(`pick another port with ${advice}`);
    });
  }

  it('taken through the configuration and through the environment variable, it names the same ways out', async () => {
    const fromConfig = await configFile(`logging: { level: warn }\naudit: { sink: off }\nserver: { port: ${port} }\n`);
    expect(refusal(await runCli(['standalone', '--config', fromConfig]))).toContain('--port <port> (or MCP_GATEWAY_PORT), or server.port');
    const fromEnv = await runCli(['standalone', '--config', config, '--port', '0'], { env: { ...process.env, MCP_GATEWAY_ADMIN_PORT: String(port) } });
    expect(refusal(fromEnv)).toContain('--admin-port <port> (or MCP_GATEWAY_ADMIN_PORT)');
  });

  it("npm start's example says GATEWAY_PORT, stops its example backends and exits 3", async () => {
    const start = fileURLToPath(new URL('../../dist/examples/start.js', import.meta.url));
    const line = refusal(await runNode(start, [], { env: { ...process.env, GATEWAY_PORT: String(port), AUDIT_SINK: 'off' } }));
    expect(line).toContain('GATEWAY_PORT=9000 npm start');
  });
});

/** The Dockerfile's HEALTHCHECK command (exec form), as Docker runs it in the image. */
function imageHealthCheck(): string[] {
  const dockerfile = readFileSync(fileURLToPath(new URL('../../Dockerfile', import.meta.url)), 'utf8').replace(/\\\n\s*/g, ' ');
  return JSON.parse(/^HEALTHCHECK\s.*?\bCMD\s+(\[.*\])\s*$/m.exec(dockerfile)![1]!) as string[];
}

it("a port variable moves its listener: MCP_GATEWAY_ADMIN_PORT, as the image sets it, is where the image's HEALTHCHECK finds /livez", async () => {
  const [admin] = await freePorts(1);
  const env = { ...process.env, MCP_GATEWAY_CONFIG: config, MCP_GATEWAY_ADMIN_PORT: String(admin) };
  const [command, ...args] = imageHealthCheck();
  expect(command).toBe('node');
  const healthCheck = (): Promise<number | null> => runNode(args[0]!, args.slice(1), { env }).then((r) => r.code);
  const child = spawn(process.execPath, [fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url)), 'standalone', '--port', '0'], { stdio: 'ignore', env });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor(async () => (await fetch(`http://127.0.0.1:${admin}/livez`).then((r) => r.status, () => 0)) === 200, 'admin /livez on the port from the environment', 15_000);
    expect(await healthCheck()).toBe(0);
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(await healthCheck()).toBe(1);
  } finally {
    child.kill('SIGKILL');
  }
});
