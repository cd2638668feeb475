/**
 * A throwaway `consul agent -dev` for `npm run bench:consul`, from the binary that
 * `scripts/install-components.sh` caches. (The test harness has the full version; the bench is
 * compiled from src, examples and bench only, so it carries this small copy.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Agent {
  readonly url: string;
  stop(): Promise<void>;
}

/** The cached binary, or undefined when the components are not installed. */
export function consulBinary(): string | undefined {
  const root = process.env.MCP_GATEWAY_CACHE || join(homedir(), '.cache', 'mcp-gateway');
  const bin = join(root, 'components', 'bin', 'consul');
  try {
    accessSync(bin, constants.X_OK);
    return bin;
  } catch {
    return undefined;
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<ReturnType<typeof createServer>>((r) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => r(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}

export async function startAgent(bin: string): Promise<Agent> {
  const [http, dns, lan, wan, server, grpc] = await freePorts(6);
  const dir = mkdtempSync(join(tmpdir(), 'mcp-gw-bench-consul-'));
  const hcl = `ports { http = ${http}, https = -1, dns = ${dns}, serf_lan = ${lan}, serf_wan = ${wan}, server = ${server}, grpc = ${grpc}, grpc_tls = -1 } disable_update_check = true`;
  const child: ChildProcess = spawn(bin, ['agent', '-dev', '-bind', '127.0.0.1', '-client', '127.0.0.1', '-advertise', '127.0.0.1', '-data-dir', dir, '-log-level', 'warn', '-hcl', hcl], { stdio: 'ignore' });
  const killNow = (): void => void child.kill('SIGKILL');
  process.once('exit', killNow);
  const url = `http://127.0.0.1:${http}`;
  const stop = async (): Promise<void> => {
    process.off('exit', killNow);
    if (child.exitCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
    }
    rmSync(dir, { recursive: true, force: true });
  };
  for (const end = Date.now() + 30_000; Date.now() < end; await new Promise((r) => setTimeout(r, 100))) {
    const leader = await fetch(`${url}/v1/status/leader`).then((r) => r.json(), () => '');
    if (typeof leader === 'string' && leader !== '') return { url, stop };
  }
  await stop();
  throw new Error('consul agent not ready in 30 s');
}
