import type { Client, IMap } from 'hazelcast-client';
import type { Logger } from 'pino';
import { HazelcastConnection } from '../session/hazelcast-connection.js';
import type { EventStore, StreamWindow } from './store.js';
import { settleWithin } from '../wait.js';

export interface HazelcastEventStoreOptions {
  readonly clusterName: string;
  readonly members: readonly string[];
  readonly mapName: string;
  /** A stream not written or touched for this long expires (the entry's TTL). */
  readonly maxAgeMs: number;
  readonly invocationTimeoutMs: number;
  readonly logger: Logger;
}

/** How long a stream's first change waits for more before it is written. */
const WRITE_DELAY_MS = 5;

/** What a pending write of one stream holds: the newest window, written after the one in flight. */
interface Pending {
  window: StreamWindow | undefined;
  running: Promise<void>;
}

/**
 * Stream windows in a Hazelcast IMap (one JSON entry per stream, TTL = the age bound), so a client
 * resumes on any gateway instance of the cluster. A stream has one writer, so a window needs no
 * compare-and-set: writes of a stream go out in order, one at a time, each 5 ms after the
 * change that starts it, and a burst of appends collapses into one write of the newest window. Writes never hold up the client's stream;
 * while the cluster cannot be reached they are dropped (logged at debug) and resuming on another
 * instance finds less.
 */
export class HazelcastEventStore implements EventStore {
  private readonly connection: HazelcastConnection;
  private map: IMap<string, string> | undefined;
  private readonly pending = new Map<string, Pending>();

  private constructor(private readonly opts: HazelcastEventStoreOptions) {
    this.connection = new HazelcastConnection({ ...opts, label: 'event store' }, { connected: (c) => void this.onConnected(c), disconnected: () => (this.map = undefined) });
  }

  /** Connect, waiting up to `startupWaitMs` for the cluster, then on in the background. */
  static async open(opts: HazelcastEventStoreOptions, startupWaitMs = 10_000): Promise<HazelcastEventStore> {
    const store = new HazelcastEventStore(opts);
    if (!(await store.connection.start(startupWaitMs))) opts.logger.warn({ cluster: opts.clusterName }, 'event store: Hazelcast not reachable yet; connecting in the background');
    return store;
  }

  private async onConnected(client: Client): Promise<void> {
    try {
      this.map = await client.getMap<string, string>(this.opts.mapName);
    } catch (err) {
      this.opts.logger.error({ err: (err as Error).message }, 'cannot open the Hazelcast event map');
    }
  }

  save(stream: string, window: StreamWindow): void {
    const p = this.pending.get(stream);
    if (p) {
      p.window = window;
      return;
    }
    const entry: Pending = { window, running: Promise.resolve() };
    this.pending.set(stream, entry);
    // Events of one burst (a backend's chunks, the result and the end) share one write.
    entry.running = new Promise((r) => setTimeout(r, WRITE_DELAY_MS)).then(() => this.drain(stream, entry));
  }

  /** Write the newest window until no newer one is waiting. */
  private async drain(stream: string, entry: Pending): Promise<void> {
    while (entry.window) {
      const json = JSON.stringify(entry.window);
      entry.window = undefined;
      await this.map?.set(stream, json, this.opts.maxAgeMs).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'event store write failed'));
    }
    this.pending.delete(stream);
  }

  touch(stream: string): void {
    this.map?.setTtl(stream, this.opts.maxAgeMs).catch((err: unknown) => this.opts.logger.debug({ err: (err as Error).message }, 'event store touch failed'));
  }

  async load(stream: string): Promise<StreamWindow | undefined> {
    const map = this.map;
    if (!map) return undefined;
    try {
      const json = await map.get(stream);
      return typeof json === 'string' ? (JSON.parse(json) as StreamWindow) : undefined;
    } catch (err) {
      this.opts.logger.debug({ err: (err as Error).message }, 'event store read failed');
      return undefined;
    }
  }

  /** Finish the writes under way (up to 2 s), then disconnect. */
  async close(): Promise<void> {
    const writes = Promise.all([...this.pending.values()].map((p) => p.running));
    await settleWithin(writes, 2_000);
    this.map = undefined;
    await this.connection.close();
  }
}
