/**
 * The real Envoy running envoy/envoy.yaml in front of a gateway process (ext_proc, broker, xDS),
 * as the tests and `npm run bench:envoy` run the topology, and reading its admin stats.
 */
import { readEnvoyTemplate, renderEnvoyConfig } from '../../examples/envoy-config.js';
import { ADMIN_PORT_PLACEHOLDER, startEnvoy, type EnvoyHandle } from './envoy.js';
import { freePort } from './ports.js';

/** Where the gateway process listens, as `runExtProc` reports it. */
export interface GatewayAddresses {
  readonly brokerUrl: string;
  readonly extprocPort: number;
  readonly xdsPort: number;
}

export interface TopologyEnvoy {
  readonly envoy: EnvoyHandle;
  /** The MCP endpoint clients call, on Envoy's listener. */
  readonly endpoint: string;
  /** The configuration Envoy runs. */
  readonly configYaml: string;
}

/** envoy/envoy.yaml, changed by `adjust` (smaller rate limits, a second replica…), rendered for `gw` on a free port. */
export async function startTopologyEnvoy(gw: GatewayAddresses, adjust: (template: string) => string = (t) => t): Promise<TopologyEnvoy> {
  const listener = await freePort();
  const broker = new URL(gw.brokerUrl);
  const configYaml = renderEnvoyConfig(adjust(readEnvoyTemplate()), { admin: ADMIN_PORT_PLACEHOLDER, listener, extproc: gw.extprocPort, broker: Number(broker.port), xds: gw.xdsPort });
  const envoy = await startEnvoy({ configYaml });
  return { envoy, endpoint: `http://127.0.0.1:${listener}${broker.pathname}`, configYaml };
}

/** One counter or gauge from Envoy's admin `/stats`; NaN while Envoy has not created it. */
export async function envoyStat(adminUrl: string, name: string): Promise<number> {
  const res = await fetch(`${adminUrl}/stats?filter=${encodeURIComponent(`^${name.replace(/\./g, '\\.')}$`)}`);
  const line = (await res.text()).split('\n').find((l) => l.startsWith(`${name}: `));
  return line ? Number(line.slice(name.length + 2)) : NaN;
}

/**
 * envoy.yaml's rate limiters (buckets tagged `# LIMIT:<name>`) with buckets too large to ever
 * refuse: for a bench or a test that offers one client far more than the per-client default and
 * measures the data path, not the limiter's refusals. The limiter filters still run, so their cost
 * counts.
 */
export function unlimited(template: string): string {
  return template.replace(/token_bucket: \{[^}]*\} # LIMIT:([\w-]+)/g, (_m, name: string) => `token_bucket: { max_tokens: 1000000000, tokens_per_fill: 1000000000, fill_interval: 1s } # LIMIT:${name}`);
}
