import { hostname } from 'node:os';
import { Client, LifecycleState, ReconnectMode } from 'hazelcast-client';
import type { Logger } from 'pino';
import { pause, retryUntil } from '../wait.js';

export interface HazelcastConnectionOptions {
  readonly clusterName: string;
  readonly members: readonly string[];
  /** How long one operation may wait for the cluster. */
  readonly invocationTimeoutMs: number;
  readonly logger: Logger;
  /** How long one client tries to reach the cluster (at start, or after losing it) before it is replaced. */
  readonly connectWindowMs?: number;
  /** Who connects, in log lines (default `session store`). */
  readonly label?: string;
}

export interface HazelcastConnectionEvents {
  /** `client` is connected: a new client, or the current one back after an outage. */
  connected(client: Client): void;
  /** The connection is gone; operations must fail fast until `connected` is called again. */
  disconnected(): void;
}

/**
 * Keeps one smart Hazelcast client connected to every member of the cluster.
 *
 * Clients start synchronously, in the background, never with `asyncStart`: hazelcast-client 5.6
 * schedules its "connect to every member" task only on a synchronous start, so an asynchronously
 * started client stays on the one member it reached first. The backup replicas' acks then have no
 * connection to arrive on, and every write whose backup lives on another member waits out the 5 s
 * backup-ack timeout.
 *
 * A client gives up after `connectWindowMs` without the cluster (at start or after an outage) and
 * shuts itself down; a fresh one then takes its place, for as long as the connection is open.
 */
export class HazelcastConnection {
  private client: Client | undefined;
  private generation = 0;
  /** The last lifecycle state of the newest client, seen even while it is still starting. */
  private lastState: LifecycleState | undefined;
  private connecting: Promise<void> | undefined;
  /** Aborted on close: ends the connect loop, during its back-off too. */
  private readonly closed = new AbortController();

  constructor(
    private readonly opts: HazelcastConnectionOptions,
    private readonly events: HazelcastConnectionEvents,
  ) {}

  /** Starts connecting; resolves true once connected, or false after `waitMs` (connecting goes on). */
  start(waitMs: number): Promise<boolean> {
    const connected = this.connect().then(() => this.client !== undefined);
    return Promise.race([connected, pause(waitMs).then(() => false)]);
  }

  /**
   * Shuts the client down. A client still starting is shut down when its start ends; close waits
   * for that up to 2 s (a start against an unreachable cluster lasts up to the connect window).
   */
  async close(): Promise<void> {
    this.closed.abort();
    const client = this.client;
    this.client = undefined;
    await client?.shutdown();
    if (this.connecting) await Promise.race([this.connecting, pause(2_000)]);
  }

  private connect(): Promise<void> {
    this.connecting ??= this.connectUntilConnected().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async connectUntilConnected(): Promise<void> {
    await retryUntil(
      async () => {
        const generation = ++this.generation;
        this.lastState = undefined;
        const client = await Client.newHazelcastClient(this.config(generation));
        if (this.closed.signal.aborted) {
          await client.shutdown();
          return;
        }
        this.client = client;
        this.opts.logger.info({ cluster: this.opts.clusterName, members: client.getCluster().getMembers().length }, `${this.opts.label ?? 'session store'} connected to Hazelcast`);
        // Lost again before its start returned: CONNECTED follows when it is back.
        if (this.lastState !== LifecycleState.DISCONNECTED) this.events.connected(client);
      },
      {
        firstMs: 500,
        maxMs: 5_000,
        signal: this.closed.signal,
        onFailure: (err, attempt) => {
          const level = attempt === 0 ? 'warn' : 'debug';
          this.opts.logger[level]({ cluster: this.opts.clusterName, members: this.opts.members, err: (err as Error).message }, 'Hazelcast cluster not reachable; still trying');
        },
      },
    );
  }

  private onLifecycle(generation: number, state: LifecycleState): void {
    // Events of a client already replaced are not the connection's.
    if (generation !== this.generation) return;
    this.lastState = state;
    // A client still starting reports through `connectUntilConnected` once its start returns.
    if (this.client === undefined) return;
    if (state === LifecycleState.CONNECTED) {
      this.opts.logger.info({ cluster: this.opts.clusterName }, `${this.opts.label ?? 'session store'} reconnected to Hazelcast`);
      this.events.connected(this.client);
    } else if (state === LifecycleState.DISCONNECTED) {
      this.events.disconnected();
    } else if (state === LifecycleState.SHUTDOWN && !this.closed.signal.aborted) {
      // The client gave up on the cluster: start over with a fresh one, once the attempt that
      // made this client has fully ended.
      this.client = undefined;
      this.events.disconnected();
      setImmediate(() => void this.connect());
    }
  }

  private config(generation: number): Parameters<typeof Client.newHazelcastClient>[0] {
    return {
      clusterName: this.opts.clusterName,
      instanceName: `mcp-gateway@${hostname()}:${process.pid}`,
      network: { clusterMembers: [...this.opts.members], connectionTimeout: 2_000 },
      connectionStrategy: {
        asyncStart: false,
        reconnectMode: ReconnectMode.ASYNC,
        connectionRetry: {
          initialBackoffMillis: 100,
          maxBackoffMillis: 2_000,
          multiplier: 1.5,
          jitter: 0.2,
          clusterConnectTimeoutMillis: this.opts.connectWindowMs ?? 10_000,
        },
      },
      lifecycleListeners: [(state) => this.onLifecycle(generation, state)],
      properties: { 'hazelcast.client.invocation.timeout.millis': this.opts.invocationTimeoutMs, 'hazelcast.logging.level': 'OFF' },
    };
  }
}
