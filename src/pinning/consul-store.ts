import type { ConsulSourceConfig } from '../config/schema.js';
import { ConsulHttp } from '../catalog/consul/http.js';
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
  private readonly http: ConsulHttp;

  constructor(
    consul: ConsulSourceConfig,
    private readonly prefix: string,
  ) {
    this.http = new ConsulHttp({ url: consul.url, waitSeconds: 1, ...(consul.token ? { token: consul.token } : {}), ...(consul.datacenter ? { datacenter: consul.datacenter } : {}) });
  }

  async list(): Promise<Map<string, Approval>> {
    const { body } = await this.http.read(`/v1/kv/${this.prefix}`, { recurse: 'true' }, 0, AbortSignal.timeout(10_000));
    const out = new Map<string, Approval>();
    for (const e of (body as KvEntry[] | null) ?? []) {
      if (e.Value === null || !e.Key.startsWith(this.prefix)) continue;
      try {
        const a: unknown = JSON.parse(Buffer.from(e.Value, 'base64').toString('utf8'));
        if (isApproval(a)) out.set(e.Key.slice(this.prefix.length), a);
      } catch {
        // Not an approval (hand-edited, truncated): ignored, so the entry counts as not approved.
      }
    }
    return out;
  }

  async putIfAbsent(key: string, approval: Approval): Promise<Approval> {
    if ((await this.http.write(this.path(key), { cas: '0' }, JSON.stringify(approval))) === true) return approval;
    return (await this.list()).get(key) ?? approval;
  }

  async put(key: string, approval: Approval): Promise<void> {
    await this.http.write(this.path(key), {}, JSON.stringify(approval));
  }

  /** Names may hold any character: each segment is URI-encoded on the way, and Consul stores the key as given. */
  private path(key: string): string {
    return `/v1/kv/${this.prefix}${key.split('/').map(encodeURIComponent).join('/')}`;
  }

  close(): Promise<void> {
    return this.http.close();
  }
}
