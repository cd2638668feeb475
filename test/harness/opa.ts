/**
 * A throwaway OPA server on a free loopback port, so policy tests evaluate
 * real Rego rather than a mock.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { opaBin } from './components.js';
import { freePort } from './ports.js';
import { probe, startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

export interface OpaHandle {
  /** REST API base, e.g. `http://127.0.0.1:41234`. */
  url: string;
  port: number;
  stop(): Promise<void>;
  kill(): void;
  output(): string;
}

/**
 * Starts `opa run --server` with the version check (telemetry) off; ready when `GET /health` is 200.
 * `port` starts it again where a stopped one listened (an OPA restart, which loses what was loaded).
 * `config` is OPA's configuration file (YAML or JSON: `services`, `bundles`, `decision_logs`…);
 * with `waitForBundles`, ready waits until every configured bundle is activated (`/health?bundles`).
 */
export async function startOpa(opts: { timeoutMs?: number; port?: number; config?: string; logLevel?: string; waitForBundles?: boolean } = {}): Promise<OpaHandle> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const args = ['run', '--server', '--addr', `127.0.0.1:${port}`, '--skip-version-check', '--log-level', opts.logLevel ?? 'error'];
  let dir: string | undefined;
  if (opts.config !== undefined) {
    dir = makeTempDir('opa');
    writeFileSync(join(dir, 'opa.yaml'), opts.config);
    args.push('--config-file', join(dir, 'opa.yaml'));
  }
  const health = opts.waitForBundles ? `${url}/health?bundles` : `${url}/health`;
  const handle = await startProcess({
    name: 'opa',
    cmd: opaBin(),
    args,
    timeoutMs: opts.timeoutMs ?? 30_000,
    ready: async () => (await probe(health)).ok,
    ...(dir ? { cleanup: () => removeDir(dir) } : {}),
  });
  return {
    url,
    port,
    stop: () => handle.stop(),
    kill: () => handle.kill(),
    output: () => handle.output(),
  };
}
