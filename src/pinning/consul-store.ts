import type { ConsulSourceConfig } from '../config/schema.js';
import type Consul from 'consul';
import { consulClient, consulFailure } from '../catalog/consul/client.js';
import { isApproval, type Approval, type ApprovalStore } from './store.js';

interface KvEntry {
  readonly Key: string;
  readonly Value: string | null;
}

/**
 * Approvals in Consul KV under `pinning.consulPrefix` (one JSON value per key), in the Consul the
 * catalog comes from: where tool definitions come from, there their approvals live too. First-use
 * approvals are `cas=0` writes (create only), so racing instances agree on one.
 */
export class ConsulApprovalStore implements ApprovalStore {
  readonly kind: ApprovalStore['kind'] = 'consul';
  private readonly consul: Consul;
  private readonly url: string;

  constructor(
    consul: ConsulSourceConfig,
    private readonly prefix: string,
  ) {
    // The catalog's client settings (token, datacenter), with a short timeout: approvals are small, plain reads and writes.
    this.consul = consulClient({ ...consul, timeoutMs: 10_000 });
    this.url = consul.url;
  }

  async list(): Promise<Map<string, Approval>> {
    let entries: KvEntry[] | undefined;
    try {
      // The package decodes each value, and resolves a missing prefix to undefined.
      entries = (await this.consul.kv.get({ key: this.prefix, recurse: true })) as KvEntry[] | undefined;
    } catch (err) {
      throw consulFailure(err, `KV ${this.prefix}`, this.url);
    }
    const out = new Map<string, Approval>();
    for (const e of entries ?? []) {
      if (e.Value === null || !e.Key.startsWith(this.prefix)) continue;
      try {
        const a: unknown = JSON.parse(e.Value);
        if (isApproval(a)) out.set(e.Key.slice(this.prefix.length), a);
      } catch {
        // Not an approval (hand-edited, truncated): ignored, so the entry counts as not approved.
      }
    }
    return out;
  }

  async putIfAbsent(key: string, approval: Approval): Promise<Approval> {
    // cas=0: create only, so racing instances agree on one first-use approval.
    if (await this.write({ key: this.prefix + key, value: JSON.stringify(approval), cas: 0 })) return approval;
    return (await this.list()).get(key) ?? approval;
  }

  async put(key: string, approval: Approval): Promise<void> {
    await this.write({ key: this.prefix + key, value: JSON.stringify(approval) });
  }

  private async write(o: { key: string; value: string; cas?: number }): Promise<boolean> {
    try {
      return await this.consul.kv.set(o);
    } catch (err) {
      throw consulFailure(err, `KV ${o.key}`, this.url);
    }
  }

  close(): Promise<void> {
    this.consul.destroy();
    return Promise.resolve();
  }
}
