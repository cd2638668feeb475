import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { HazelcastEventStore } from './hazelcast-store.js';
import { EventLog, type EventLogOptions } from './log.js';
import { MemoryEventStore, NoEventStore } from './memory-store.js';

/** The event log the configuration asks for: its bounds, and a store beside the sessions' by default. */
export async function openEventLog(config: Readonly<GatewayConfig>, logger: Logger, onResume?: EventLogOptions['onResume']): Promise<EventLog> {
  const e = config.events;
  const maxAgeMs = e.maxAgeSeconds * 1000;
  const kind = e.store ?? config.sessions.store;
  const { clusterName, members, invocationTimeoutMs } = config.sessions.hazelcast;
  const store =
    kind === 'off'
      ? new NoEventStore()
      : kind === 'memory'
        ? new MemoryEventStore(maxAgeMs, Date.now, e.maxTotalBytes)
        : await HazelcastEventStore.open({ clusterName, members, invocationTimeoutMs, mapName: e.hazelcastMapName, maxAgeMs, logger: logger.child({ component: 'event-store' }) });
  return new EventLog(store, { maxEventsPerStream: e.maxEventsPerStream, maxBytesPerStream: e.maxBytesPerStream, maxAgeMs, retryMs: e.retryMs, resumable: kind !== 'off', ...(onResume ? { onResume } : {}) });
}
