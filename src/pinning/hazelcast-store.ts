import type { IMap } from 'hazelcast-client';
import type { Logger } from 'pino';
import { HazelcastConnection } from '../session/hazelcast-connection.js';
import { isApproval, type Approval, type ApprovalStore } from './store.js';

export interface HazelcastApprovalStoreOptions {
  readonly clusterName: string;
  readonly members: readonly string[];
  readonly mapName: string;
  readonly invocationTimeoutMs: number;
  readonly logger: Logger;
}

/**
 * Approvals in a Hazelcast IMap (one JSON entry per key, no expiry), shared by every instance of
 * the sessions' cluster. First-use approvals use `putIfAbsent`, so two instances that see a tool
 * at once agree on one approval.
 */
export class HazelcastApprovalStore implements ApprovalStore {
  readonly kind: ApprovalStore['kind'] = 'hazelcast';
  private readonly connection: HazelcastConnection;
  private map: IMap<string, string> | undefined;

  private constructor(private readonly opts: HazelcastApprovalStoreOptions) {
    this.connection = new HazelcastConnection(
      { ...opts, label: 'approval store' },
      {
        connected: (client) =>
          void client.getMap<string, string>(opts.mapName).then(
            (m) => (this.map = m),
            (err: unknown) => opts.logger.error({ err: (err as Error).message }, 'cannot open the Hazelcast approvals map'),
          ),
        disconnected: () => (this.map = undefined),
      },
    );
  }

  /** Connect, waiting up to `startupWaitMs` for the cluster, then on in the background. */
  static async open(opts: HazelcastApprovalStoreOptions, startupWaitMs = 10_000): Promise<HazelcastApprovalStore> {
    const store = new HazelcastApprovalStore(opts);
    if (!(await store.connection.start(startupWaitMs))) opts.logger.warn({ cluster: opts.clusterName }, 'approval store: Hazelcast not reachable yet; connecting in the background');
    return store;
  }

  private ready(): IMap<string, string> {
    if (!this.map) throw new Error('the Hazelcast cluster of the approval store cannot be reached');
    return this.map;
  }

  async list(): Promise<Map<string, Approval>> {
    const out = new Map<string, Approval>();
    for (const [key, json] of await this.ready().entrySet()) {
      const a = parse(json);
      if (a) out.set(key, a);
    }
    return out;
  }

  async putIfAbsent(key: string, approval: Approval): Promise<Approval> {
    const previous = await this.ready().putIfAbsent(key, JSON.stringify(approval));
    return (previous !== null && parse(previous)) || approval;
  }

  async put(key: string, approval: Approval): Promise<void> {
    await this.ready().set(key, JSON.stringify(approval));
  }

  async close(): Promise<void> {
    this.map = undefined;
    await this.connection.close();
  }
}

function parse(json: string): Approval | undefined {
  try {
    const v: unknown = JSON.parse(json);
    return isApproval(v) ? v : undefined;
  } catch {
    return undefined;
  }
}
