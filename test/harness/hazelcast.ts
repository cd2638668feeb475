/**
 * A real Hazelcast member (the open-source jar, no client library needed) on
 * loopback. Discovery is TCP-IP with an explicit member list, so two members
 * started by one test form a cluster without multicast and without finding
 * members of other test runs (each run uses its own cluster name).
 */
import { writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { hazelcastJar } from './components.js';
import { freePort } from './ports.js';
import { startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

export interface HazelcastOptions {
  /** Members with the same name (and listed addresses) join one cluster. */
  clusterName: string;
  /** Member port; a free port when omitted. */
  port?: number;
  /**
   * Other members to join: ports on 127.0.0.1 or `host:port` strings. To form
   * a cluster it is enough for the second member to list the first.
   */
  members?: Array<number | string>;
  /** Also wait until the log shows `Members {size:N`. */
  expectMembers?: number;
  timeoutMs?: number;
}

export interface HazelcastHandle {
  port: number;
  /** `127.0.0.1:port`, the form clients and other members use. */
  address: string;
  clusterName: string;
  /** Resolves once the member's log shows a cluster of `size` members. */
  waitForMembers(size: number, timeoutMs?: number): Promise<void>;
  /**
   * Resolves once the member reports the cluster safe (no migration pending, every partition
   * backed up). Only then does losing a member lose no data.
   */
  waitClusterSafe(timeoutMs?: number): Promise<void>;
  stop(): Promise<void>;
  kill(): void;
  output(): string;
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

/** Cluster size the log reported last (0 when none yet). */
function membersInLog(log: string): number {
  let last = 0;
  for (const m of log.matchAll(/Members \{size:(\d+)/g)) last = Number(m[1]);
  return last;
}

function configYaml(o: { clusterName: string; port: number; members: string[] }): string {
  const list = o.members.map((m) => `          - "${m}"`).join('\n');
  return `hazelcast:
  cluster-name: "${o.clusterName}"
  properties:
    hazelcast.phone.home.enabled: false
    hazelcast.socket.bind.any: false
    hazelcast.logging.type: jdk
    # Tests kill members on purpose: notice a dead member in seconds, not the default minute.
    hazelcast.heartbeat.interval.seconds: 1
    hazelcast.max.no.heartbeat.seconds: 5
  jet:
    enabled: false
  network:
    # GET /hazelcast/health on the member port tells when the cluster is safe (migrations done).
    rest-api:
      enabled: true
      endpoint-groups:
        HEALTH_CHECK:
          enabled: true
    public-address: "127.0.0.1:${o.port}"
    port:
      auto-increment: false
      port: ${o.port}
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
        connection-timeout-seconds: 2
        member-list:
${list}
`;
}

/** Starts one member (`HazelcastMemberStarter`) with a generated YAML config. */
export async function startHazelcast(opts: HazelcastOptions): Promise<HazelcastHandle> {
  const port = opts.port ?? (await freePort());
  const address = `127.0.0.1:${port}`;
  const others = (opts.members ?? []).map((m) => (typeof m === 'number' ? `127.0.0.1:${m}` : m));
  const dir = makeTempDir('hazelcast');
  const configPath = join(dir, 'hazelcast.yaml');
  writeFileSync(configPath, configYaml({ clusterName: opts.clusterName, port, members: [address, ...others] }));

  const handle = await startProcess({
    name: `hazelcast ${address}`,
    cmd: 'java',
    args: [
      '-Xmx256m',
      '-XX:+UseSerialGC',
      '-XX:TieredStopAtLevel=1',
      `-Dhazelcast.config=${configPath}`,
      '-Dhazelcast.phone.home.enabled=false',
      '-Djava.net.preferIPv4Stack=true',
      '-cp', hazelcastJar(),
      'com.hazelcast.core.server.HazelcastMemberStarter',
    ],
    cwd: dir,
    timeoutMs: opts.timeoutMs ?? 90_000,
    pollMs: 300,
    cleanup: () => removeDir(dir),
    ready: async ({ output }) => {
      const log = output();
      if (!/ is STARTED/.test(log)) return false;
      if (opts.expectMembers !== undefined && membersInLog(log) !== opts.expectMembers) return false;
      return canConnect(port);
    },
  });

  return {
    port,
    address,
    clusterName: opts.clusterName,
    async waitForMembers(size, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (membersInLog(handle.output()) !== size) {
        if (Date.now() > deadline) {
          throw new Error(`hazelcast ${address}: no "Members {size:${size}" in log\n${handle.output()}`);
        }
        await new Promise((r) => setTimeout(r, 250));
      }
    },
    async waitClusterSafe(timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          const res = await fetch(`http://${address}/hazelcast/health`, { signal: AbortSignal.timeout(1_000) });
          last = await res.text();
          const h = JSON.parse(last) as { clusterSafe?: boolean; migrationQueueSize?: number };
          if (h.clusterSafe === true && h.migrationQueueSize === 0) return;
        } catch (err) {
          last = String(err);
        }
        if (Date.now() > deadline) throw new Error(`hazelcast ${address}: cluster not safe in time (last health: ${last})`);
        await new Promise((r) => setTimeout(r, 200));
      }
    },
    stop: () => handle.stop(10_000),
    kill: () => handle.kill(),
    output: () => handle.output(),
  };
}
