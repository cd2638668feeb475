import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';

/**
 * The first address of a hostname, cached briefly: on the path of every pinned call. When a
 * lookup fails the last address stands, as the xDS feed keeps a name's last endpoints.
 */
export class AddressCache {
  private readonly cache = new Map<string, { address: string; expires: number }>();

  async of(host: string): Promise<string> {
    if (isIP(host) !== 0) return host;
    const hit = this.cache.get(host);
    if (hit && hit.expires > Date.now()) return hit.address;
    try {
      const { address } = await lookup(host);
      this.cache.set(host, { address, expires: Date.now() + 30_000 });
      return address;
    } catch (err) {
      if (hit) return hit.address;
      throw err;
    }
  }
}
