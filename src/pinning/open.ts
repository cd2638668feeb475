import type { Logger } from 'pino';
import { backendPinnings, type GatewayConfig } from '../config/schema.js';
import { ConsulApprovalStore } from './consul-store.js';
import { FileApprovalStore } from './file-store.js';
import { HazelcastApprovalStore } from './hazelcast-store.js';
import { MemoryApprovalStore, type ApprovalStore } from './store.js';
import { DefinitionPins, type PinReport } from './pins.js';

/** Pinning of the configuration, or undefined when it is off by default and for every configured backend. */
export async function openPins(config: Readonly<GatewayConfig>, logger: Logger, report: (r: PinReport) => void): Promise<DefinitionPins | undefined> {
  const on = config.pinning.mode !== 'off' || backendPinnings(config).some((p) => (p?.mode ?? 'off') !== 'off');
  if (!on) return undefined;
  const log = logger.child({ component: 'pinning' });
  const store = await openApprovalStore(config, log);
  log.info({ store: store.kind, mode: config.pinning.mode, onDrift: config.pinning.onDrift }, 'pinned definitions on');
  return new DefinitionPins({ config: config.pinning, store, logger: log, report });
}

/**
 * The approval store the configuration asks for. By default the store every instance already
 * shares: Consul KV when the catalog comes from Consul (approvals beside the definitions they
 * approve), else the sessions' Hazelcast cluster, else the `file` when one is named (a single
 * instance that must not trust anew after a restart), else memory.
 */
export async function openApprovalStore(config: Readonly<GatewayConfig>, logger: Logger): Promise<ApprovalStore> {
  const p = config.pinning;
  const kind = p.store ?? (config.catalog.consul ? 'consul' : config.sessions.store === 'hazelcast' ? 'hazelcast' : p.file ? 'file' : 'memory');
  if (kind === 'consul') return new ConsulApprovalStore(config.catalog.consul!, p.consulPrefix);
  if (kind === 'file') return FileApprovalStore.open(p.file!);
  if (kind === 'hazelcast') {
    const { clusterName, members, invocationTimeoutMs } = config.sessions.hazelcast;
    return HazelcastApprovalStore.open({ clusterName, members, invocationTimeoutMs, mapName: p.hazelcastMapName, logger });
  }
  return new MemoryApprovalStore();
}
