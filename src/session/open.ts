import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { HazelcastSessionStore } from './hazelcast-store.js';
import { MemorySessionStore } from './memory-store.js';
import type { SessionStore } from './store.js';

/** The session store the configuration asks for. */
export async function openSessionStore(cfg: GatewayConfig['sessions'], logger: Logger): Promise<SessionStore> {
  const ttlMs = cfg.ttlSeconds * 1000;
  if (cfg.store === 'memory') return new MemorySessionStore(ttlMs);
  const { clusterName, members, mapName, invocationTimeoutMs } = cfg.hazelcast;
  return HazelcastSessionStore.open({ clusterName, members, mapName, ttlMs, invocationTimeoutMs, logger });
}
