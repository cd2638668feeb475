/**
 * A throwaway Consul dev agent (in-memory server + client) on loopback, on
 * free ports, so service-discovery tests hit a real catalog.
 */
import { consulBin } from './components.js';
import { freePorts } from './ports.js';
import { probe, startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

export interface ConsulHandle {
  /** HTTP API base, e.g. `http://127.0.0.1:41234`. */
  url: string;
  httpPort: number;
  dnsPort: number;
  stop(): Promise<void>;
  kill(): void;
  output(): string;
}

/**
 * Starts `consul agent -dev`; ready once the agent reports a raft leader. `httpPort` fixes the
 * HTTP API port, so a test can stop Consul and start a new one where clients already point;
 * `hcl` adds agent configuration (ACLs, for example).
 */
export async function startConsul(opts: { timeoutMs?: number; httpPort?: number; hcl?: string } = {}): Promise<ConsulHandle> {
  const [freeHttp, dns, serfLan, serfWan, server, grpc] = (await freePorts(6)) as [
    number, number, number, number, number, number,
  ];
  const http = opts.httpPort ?? freeHttp;
  const dataDir = makeTempDir('consul');
  // grpc_tls = -1: the dev agent would otherwise take its fixed default 8503.
  const hcl = [
    `ports { http = ${http}, https = -1, dns = ${dns}, serf_lan = ${serfLan}, serf_wan = ${serfWan},`,
    `server = ${server}, grpc = ${grpc}, grpc_tls = -1 }`,
    'disable_update_check = true',
    opts.hcl ?? '',
  ].join(' ');
  const url = `http://127.0.0.1:${http}`;
  const handle = await startProcess({
    name: 'consul',
    cmd: consulBin(),
    args: [
      'agent', '-dev',
      '-bind', '127.0.0.1', '-client', '127.0.0.1', '-advertise', '127.0.0.1',
      '-node', `mcp-gw-test-${http}`,
      '-data-dir', dataDir,
      '-log-level', 'warn',
      '-hcl', hcl,
    ],
    timeoutMs: opts.timeoutMs ?? 60_000,
    cleanup: () => removeDir(dataDir),
    ready: async () => {
      const res = await probe(`${url}/v1/status/leader`);
      if (!res.ok) return false;
      const leader = (await res.json()) as unknown;
      return typeof leader === 'string' && leader !== '';
    },
  });
  return {
    url,
    httpPort: http,
    dnsPort: dns,
    stop: () => handle.stop(),
    kill: () => handle.kill(),
    output: () => handle.output(),
  };
}
