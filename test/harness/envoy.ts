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
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envoyBin } from './components.js';
import { freePort } from './ports.js';
import { probe, runToEnd, startProcess } from './process.js';
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
    const { code, output } = await runToEnd(envoyBin(), ['--mode', 'validate', '-c', path, '--base-id', baseId(), '-l', 'warning'], { cwd: dir, timeoutMs });
    return { ok: code === 0, output };
  } finally {
    removeDir(dir);
  }
}

/**
 * A `static_resources.listeners` item (indented for that list): one HTTP connection manager on
 * 127.0.0.1:`port` whose single virtual host has `routes` (YAML flow mappings), any `filters`
 * (YAML list items at http_filters depth, starting with a newline) and the router last. The
 * shape every hand-written test or bench bootstrap needs; envoy/envoy.yaml is the real one.
 */
export function httpListener(opts: { port: number; routes: readonly string[]; name?: string; filters?: string }): string {
  const name = opts.name ?? 'mcp';
  return `    - name: ${name}
      address: { socket_address: { address: 127.0.0.1, port_value: ${opts.port} } }
      filter_chains:
        - filters:
            - name: envoy.filters.network.http_connection_manager
              typed_config:
                "@type": type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager
                stat_prefix: ${name}
                codec_type: AUTO
                use_remote_address: true
                route_config:
                  virtual_hosts:
                    - name: ${name}
                      domains: ["*"]
                      routes:
${opts.routes.map((r) => `                        - ${r}\n`).join('')}                http_filters:${opts.filters ?? ''}
                  - name: envoy.filters.http.router
                    typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.router.v3.Router }
`;
}

/** A `static_resources.clusters` item (indented for that list): one STATIC endpoint. */
export function staticCluster(name: string, host: string, port: number): string {
  return `    - name: ${name}
      type: STATIC
      connect_timeout: 1s
      load_assignment:
        cluster_name: ${name}
        endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: ${host}, port_value: ${port} } } } }] }]
`;
}
