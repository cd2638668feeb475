import type { Dispatcher } from 'undici';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { STATELESS_PROTOCOL_VERSION, type Era } from '../mcp/era.js';
import { withFailover } from './failover.js';
import type { Pools } from './pool.js';
import { probeEra, type EraProbe, type StatelessMeta } from './stateless-wire.js';

/**
 * Which era each native backend speaks, so calls know whether to open a backend session or send
 * stateless requests. The era is a property of the backend (its instances are expected to agree):
 * pinned by configuration (`era`, Consul `mcp-era`), or learned from a `server/discover` probe,
 * which catalog discovery repeats at every refresh and a call makes itself when nothing is known
 * yet. What was learned holds for the instance list it was learned with.
 */
export class BackendEras {
  private readonly learned = new Map<string, { readonly urls: string; readonly era: Era }>();
  private readonly probing = new Map<string, Promise<Era>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly pools: Pools,
    private readonly clientInfo: StatelessMeta['clientInfo'],
  ) {}

  /** The era pinned or learned for the backend, without asking it; undefined when not known yet. */
  known(backend: McpBackendConfig): Era | undefined {
    if (backend.era !== 'auto') return backend.era;
    const l = this.learned.get(backend.name);
    return l && l.urls === backend.urls.join(' ') ? l.era : undefined;
  }

  /** The backend's era, probing an instance (with failover) when it is neither pinned nor known. */
  of(backend: McpBackendConfig, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<Era> {
    const known = this.known(backend);
    if (known) return Promise.resolve(known);
    let running = this.probing.get(backend.name);
    if (!running) {
      const pool = this.pools.get(backend.name, backend.urls);
      running = withFailover(pool, true, (url) => this.probe(backend, url, headers, signal), () => signal.aborted).then((p) => p.era);
      this.probing.set(backend.name, running);
      void running.catch(() => {}).finally(() => this.probing.delete(backend.name));
    }
    return running;
  }

  /** Probe one instance now (catalog discovery) and remember what it said for the backend. */
  async probe(backend: McpBackendConfig, url: string, headers: Readonly<Record<string, string>>, signal: AbortSignal): Promise<EraProbe> {
    if (backend.era === 'session') return { era: 'session' };
    const found = await probeEra(this.dispatcher, url, headers, this.clientInfo, signal);
    // Every stateless server answers server/discover: one pinned to that era that does not is broken, not legacy.
    if (backend.era === 'stateless' && found.era === 'session') {
      throw new GatewayError('GW_UPSTREAM_PROTOCOL', `backend "${backend.name}" is pinned to the stateless era but did not answer server/discover with ${STATELESS_PROTOCOL_VERSION}`);
    }
    this.learned.set(backend.name, { urls: backend.urls.join(' '), era: found.era });
    return found;
  }
}
