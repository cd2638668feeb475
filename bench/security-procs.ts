/**
 * Throwaway Hazelcast member and OPA server for `npm run bench:security`, from the artifacts
 * that `scripts/install-components.sh` caches (~/.cache/mcp-gateway/components). The test
 * harness has the full versions; the bench is compiled from src, examples and bench only, so it
 * carries these small copies (as consul-agent.ts does for Consul).
 *
 * Every process started here is killed when the bench exits, however it exits: `stop()` for the
 * normal path, an `exit` hook (SIGKILL) otherwise; `killOnSignals()` turns SIGINT/SIGTERM into
 * a normal exit so that hook runs.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Proc {
  readonly url: string;
  readonly port: number;
  stop(): Promise<void>;
}

const components = (): string => join(process.env.MCP_GATEWAY_CACHE || join(homedir(), '.cache', 'mcp-gateway'), 'components');

function usable(path: string, mode: number): string | undefined {
  try {
    accessSync(path, mode);
    return path;
  } catch {
    return undefined;
  }
}

/** The cached OPA binary, or undefined when the components are not installed. */
export const opaBinary = (): string | undefined => usable(join(components(), 'bin', 'opa'), constants.X_OK);
/** The cached Hazelcast jar, or undefined when the components are not installed. */
export const hazelcastJar = (): string | undefined => usable(join(components(), 'hazelcast', 'hazelcast-5.6.0.jar'), constants.R_OK);

export async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const { port } = s.address() as { port: number };
  await new Promise((r) => s.close(r));
  return port;
}

let signalsHooked = false;
/** SIGINT/SIGTERM exit normally, so the `exit` hooks below kill the children. */
export function killOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130));
}

/** Spawn, remember to kill it on exit, and poll `ready` until it holds or `timeoutMs` passes. */
async function launch(o: { name: string; cmd: string; args: string[]; cwd?: string; port: number; ready: (log: string) => Promise<boolean>; timeoutMs: number; cleanup?: () => void }): Promise<Proc> {
  let log = '';
  const child: ChildProcess = spawn(o.cmd, o.args, { cwd: o.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  const keep = (b: Buffer): void => void (log = (log + b.toString()).slice(-20_000));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  const killNow = (): void => void child.kill('SIGKILL');
  process.once('exit', killNow);
  const stop = async (): Promise<void> => {
    process.off('exit', killNow);
    if (child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    o.cleanup?.();
  };
  const proc: Proc = { url: `http://127.0.0.1:${o.port}`, port: o.port, stop };
  for (const end = Date.now() + o.timeoutMs; Date.now() < end; await new Promise((r) => setTimeout(r, 150))) {
    if (child.exitCode !== null) break;
    if (await o.ready(log).catch(() => false)) return proc;
  }
  await stop();
  throw new Error(`${o.name} not ready in ${o.timeoutMs} ms (exit code ${child.exitCode}); log tail:\n${log.slice(-2000)}`);
}

/** `opa run --server` on a free loopback port, telemetry off; ready when GET /health is 200. */
export async function startOpa(bin: string): Promise<Proc> {
  const port = await freePort();
  return launch({
    name: 'opa',
    cmd: bin,
    args: ['run', '--server', '--addr', `127.0.0.1:${port}`, '--skip-version-check', '--log-level', 'error'],
    port,
    timeoutMs: 30_000,
    ready: async () => (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
  });
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    const done = (ok: boolean): void => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(1_000, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * One Hazelcast member (the open-source jar) on a free loopback port: TCP-IP join with only
 * itself listed and a cluster name of its own, so it never joins another run's members.
 */
export async function startHazelcast(jar: string, clusterName: string): Promise<Proc> {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mcp-gw-bench-hz-'));
  const config = join(dir, 'hazelcast.yaml');
  writeFileSync(
    config,
    `hazelcast:
  cluster-name: "${clusterName}"
  properties:
    hazelcast.phone.home.enabled: false
    hazelcast.socket.bind.any: false
    hazelcast.logging.type: jdk
  jet:
    enabled: false
  network:
    public-address: "127.0.0.1:${port}"
    port:
      auto-increment: false
      port: ${port}
    interfaces:
      enabled: true
      interfaces:
        - 127.0.0.1
    join:
      auto-detection:
        enabled: false
      multicast:
        enabled: false
      tcp-ip:
        enabled: true
        member-list:
          - "127.0.0.1:${port}"
`,
  );
  return launch({
    name: `hazelcast 127.0.0.1:${port}`,
    cmd: 'java',
    // Full tiered JIT (unlike the tests' C1-only member): the bench measures the member's steady state.
    args: ['-Xmx256m', '-XX:+UseSerialGC', `-Dhazelcast.config=${config}`, '-Dhazelcast.phone.home.enabled=false', '-Djava.net.preferIPv4Stack=true', '-cp', jar, 'com.hazelcast.core.server.HazelcastMemberStarter'],
    cwd: dir,
    port,
    timeoutMs: 60_000,
    ready: async (log) => / is STARTED/.test(log) && (await canConnect(port)),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  });
}
