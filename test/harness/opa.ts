/**
 * A throwaway OPA server on a free loopback port, so policy tests evaluate
 * real Rego rather than a mock.
 */
import { opaBin } from './components.js';
import { freePort } from './ports.js';
import { probe, startProcess } from './process.js';

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
 */
export async function startOpa(opts: { timeoutMs?: number; port?: number } = {}): Promise<OpaHandle> {
  const port = opts.port ?? (await freePort());
  const url = `http://127.0.0.1:${port}`;
  const handle = await startProcess({
    name: 'opa',
    cmd: opaBin(),
    args: ['run', '--server', '--addr', `127.0.0.1:${port}`, '--skip-version-check', '--log-level', 'error'],
    timeoutMs: opts.timeoutMs ?? 30_000,
    ready: async () => (await probe(`${url}/health`)).ok,
  });
  return {
    url,
    port,
    stop: () => handle.stop(),
    kill: () => handle.kill(),
    output: () => handle.output(),
  };
}
