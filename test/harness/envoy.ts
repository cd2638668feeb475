/**
 * Runs the real Envoy binary against a test's bootstrap config, so the configs
 * the gateway generates are checked by Envoy itself, not by a schema copy.
 *
 * Admin port convention: write the placeholder `{{ADMIN_PORT}}` where the
 * admin listener's port goes; the helper substitutes a free port and exposes
 * it as `adminPort` (readiness is probed there). Other ports the config needs
 * are the caller's business (get them from `freePort()` before building the YAML).
 *
 * @example
 *   admin:
 *     address: { socket_address: { address: 127.0.0.1, port_value: {{ADMIN_PORT}} } }
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyBin } from './components.js';
import { freePort } from './ports.js';
import { probe, startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/** The placeholder replaced with the admin port. */
export const ADMIN_PORT_PLACEHOLDER = '{{ADMIN_PORT}}';

export interface EnvoyHandle {
  /** Admin API base, e.g. `http://127.0.0.1:41234`. */
  adminUrl: string;
  adminPort: number;
  stop(): Promise<void>;
  kill(): void;
  output(): string;
}

async function writeConfig(configYaml: string): Promise<{ dir: string; path: string; adminPort: number }> {
  const adminPort = await freePort();
  const dir = makeTempDir('envoy');
  const path = join(dir, 'envoy.yaml');
  writeFileSync(path, configYaml.split(ADMIN_PORT_PLACEHOLDER).join(String(adminPort)));
  return { dir, path, adminPort };
}

/** A random `--base-id` keeps concurrent Envoys from sharing shared-memory names. */
function baseId(): string {
  return String(1_000 + Math.floor(Math.random() * 1_000_000));
}

/** Starts Envoy; ready when `GET /ready` on the admin port answers `LIVE`. */
export async function startEnvoy(opts: { configYaml: string; timeoutMs?: number }): Promise<EnvoyHandle> {
  if (!opts.configYaml.includes(ADMIN_PORT_PLACEHOLDER)) {
    throw new Error(`startEnvoy: configYaml must put ${ADMIN_PORT_PLACEHOLDER} as the admin port`);
  }
  const { dir, path, adminPort } = await writeConfig(opts.configYaml);
  const adminUrl = `http://127.0.0.1:${adminPort}`;
  const handle = await startProcess({
    name: 'envoy',
    cmd: envoyBin(),
    args: ['-c', path, '--base-id', baseId(), '--disable-hot-restart', '--concurrency', '1', '-l', 'warning'],
    cwd: dir,
    timeoutMs: opts.timeoutMs ?? 30_000,
    cleanup: () => removeDir(dir),
    ready: async () => {
      const res = await probe(`${adminUrl}/ready`);
      return res.ok && (await res.text()).trim() === 'LIVE';
    },
  });
  return {
    adminUrl,
    adminPort,
    stop: () => handle.stop(),
    kill: () => handle.kill(),
    output: () => handle.output(),
  };
}

/**
 * `envoy --mode validate`: parses the config and initialises everything
 * without opening listeners. `ok` is the exit status; `output` is Envoy's text.
 */
export async function validateEnvoyConfig(
  configYaml: string,
  timeoutMs = 60_000,
): Promise<{ ok: boolean; output: string }> {
  const { dir, path } = await writeConfig(configYaml);
  try {
    return await new Promise((resolve, reject) => {
      const child = spawn(envoyBin(), ['--mode', 'validate', '-c', path, '--base-id', baseId(), '-l', 'warning'], {
        cwd: dir,
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
      child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      child.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.once('exit', (code) => {
        clearTimeout(timer);
        resolve({ ok: code === 0, output });
      });
    });
  } finally {
    removeDir(dir);
  }
}
