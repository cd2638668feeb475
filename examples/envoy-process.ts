/**
 * The real Envoy binary for `npm run topology`: where to find it, and running it with a rendered
 * envoy/envoy.yaml until its admin interface says it is LIVE. (The test suites have their own
 * harness in test/harness/envoy.ts, with free ports and captured output; examples do not import
 * test code.)
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { componentsDir } from './components-dir.js';

const INSTALL_HINT = 'run `bash scripts/install-components.sh envoy`, set ENVOY_BIN, or put `envoy` on PATH';

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The Envoy to run: `ENVOY_BIN`, else the copy scripts/install-components.sh installed (its cache,
 * `${MCP_GATEWAY_CACHE:-~/.cache/mcp-gateway}/components/bin/envoy`), else `envoy` on PATH.
 */
export function findEnvoy(env: NodeJS.ProcessEnv = process.env): string {
  if (env.ENVOY_BIN) {
    if (executable(env.ENVOY_BIN)) return env.ENVOY_BIN;
    throw new Error(`ENVOY_BIN=${env.ENVOY_BIN} is not an executable file`);
  }
  const cached = join(componentsDir(env), 'bin', 'envoy');
  if (executable(cached)) return cached;
  const onPath = (env.PATH ?? '').split(delimiter).filter(Boolean).map((dir) => join(dir, 'envoy')).find(executable);
  if (onPath) return onPath;
  throw new Error(`no Envoy binary found (not at ${cached}, not on PATH): ${INSTALL_HINT}`);
}

/** A running Envoy, LIVE when handed out. */
export interface EnvoyProcess {
  readonly child: ChildProcess;
  /** Settles when Envoy exits, with its exit code (or the signal that ended it). */
  readonly exited: Promise<number | NodeJS.Signals | null>;
  /** SIGTERM, SIGKILL after 5 s; removes the rendered configuration. */
  stop(): Promise<void>;
}

/** Start Envoy with `configYaml`; resolves once `GET /ready` on its admin port answers LIVE. */
export async function startEnvoyProcess(opts: { bin: string; configYaml: string; adminPort: number; timeoutMs?: number }): Promise<EnvoyProcess> {
  const dir = await mkdtemp(join(tmpdir(), 'mcp-gateway-envoy-'));
  const file = join(dir, 'envoy.yaml');
  await writeFile(file, opts.configYaml);
  // No hot restart: it would share memory and sockets between Envoys started on one machine.
  const child = spawn(opts.bin, ['-c', file, '--disable-hot-restart', '--log-level', 'warning'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const exited = new Promise<number | NodeJS.Signals | null>((resolve) => {
    child.once('exit', (code, signal) => resolve(code ?? signal));
    child.once('error', () => resolve(null));
  });
  const stop = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    await rm(dir, { recursive: true, force: true });
  };
  try {
    await waitLive(opts.adminPort, exited, opts.timeoutMs ?? 30_000);
  } catch (err) {
    await stop();
    throw err;
  }
  return { child, exited, stop };
}

async function waitLive(adminPort: number, exited: Promise<unknown>, timeoutMs: number): Promise<void> {
  let gone: unknown;
  void exited.then((how) => (gone = how ?? 'error'));
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (gone !== undefined) throw new Error(`envoy exited (${String(gone)}) before it was ready; its log is above`);
    // Bounded: whatever else may hold the port must not stall the wait.
    const state = await fetch(`http://127.0.0.1:${adminPort}/ready`, { signal: AbortSignal.timeout(1_000) }).then((r) => r.text(), () => '');
    if (state.trim() === 'LIVE') return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`envoy was not LIVE on admin port ${adminPort} after ${timeoutMs} ms`);
}
