import type { Dispatcher } from 'undici';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { STATELESS_PROTOCOL_VERSION, type Era } from '../mcp/era.js';
import { untilAborted } from '../wait.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { withFailover } from './failover.js';
import type { Pools } from './pool.js';
import { probeEra, type EraProbe, type StatelessMeta } from './stateless-wire.js';

export interface BackendErasOptions {
  /** The gateway's own credentials for a backend (no caller): a probe is the gateway's, whoever waits on it. */
  readonly credentials: Pick<OutboundCredentials, 'headers'>;
  /** A probe's budget when the backend sets no `timeoutMs`. */
  readonly defaultTimeoutMs: number;
}

/**
 * Which era each native backend speaks, so calls know whether to open a backend session or send
 * stateless requests. The era is a property of the backend (its instances are expected to agree):
 * pinned by configuration (`era`, Consul `mcp-era`), or learned from a `server/discover` probe,
 * which catalog discovery repeats at every refresh and a call makes itself when nothing is known
 * yet. What was learned holds for the backend while its instances change (Consul membership):
 * a changed instance list is probed again in the background, never on a call's path.
 */
export class BackendEras {
  private readonly learned = new Map<string, { urls: string; readonly era: Era }>();
  private readonly probing = new Map<string, Promise<Era>>();

  constructor(
    private readonly dispatcher: Dispatcher,
    private readonly pools: Pools,
    private readonly clientInfo: StatelessMeta['clientInfo'],
    private readonly opts: BackendErasOptions,
  ) {}

  /**
   * The era pinned or learned for the backend, without waiting for it; undefined when not known
   * yet. When the backend's instances changed since the era was learned, the new list is probed in
   * the background (once per change) and the era learned before holds until that probe says otherwise.
   */
  known(backend: McpBackendConfig): Era | undefined {
    if (backend.era !== 'auto') return backend.era;
    const l = this.learned.get(backend.name);
    if (!l) return undefined;
    const urls = backend.urls.join(' ');
    if (l.urls !== urls) {
      l.urls = urls;
      void this.shared(backend).catch(() => {}); // the next discovery or call tries again
    }
    return l.era;
  }

  /**
   * The backend's era, probing an instance (with failover) when it is neither pinned nor known.
   * Concurrent callers share one probe, which runs on its own deadline and the gateway's own
   * credentials; each caller waits for it under its own `signal` only, so a caller that goes away
   * fails alone and the probe goes on for the others.
   */
  of(backend: McpBackendConfig, signal: AbortSignal): Promise<Era> {
    const known = this.known(backend);
    if (known) return Promise.resolve(known);
    return untilAborted(this.shared(backend), signal);
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

  /** The backend's probe in progress, started now if there is none. */
  private shared(backend: McpBackendConfig): Promise<Era> {
    let running = this.probing.get(backend.name);
    if (!running) {
      const started = this.probeNow(backend);
      running = started;
      this.probing.set(backend.name, started);
      void started.catch(() => {}).finally(() => {
        if (this.probing.get(backend.name) === started) this.probing.delete(backend.name);
      });
    }
    return running;
  }

  private async probeNow(backend: McpBackendConfig): Promise<Era> {
    const deadline = new Deadline(new AbortController(), backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    try {
      const headers = await this.opts.credentials.headers(backend, undefined);
      const pool = this.pools.get(backend.name, backend.urls);
      const found = await withFailover(pool, true, (url) => this.probe(backend, url, headers, deadline.signal), () => deadline.signal.aborted);
      return found.era;
    } finally {
      deadline.dispose();
    }
  }
}
