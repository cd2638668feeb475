import { Agent, request } from 'undici';

/** A failed Consul request (unreachable, timed out, or an unexpected answer): a local error, never sent to clients. */
export class ConsulError extends Error {
  readonly code = 'GW_CONSUL_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsulError';
  }
}

/** One answer of a (blocking) read: the body (`null` for 404, e.g. an empty KV folder) and its `X-Consul-Index`. */
export interface ConsulRead {
  readonly index: number;
  readonly body: unknown;
}

export interface ConsulHttpOptions {
  readonly url: string;
  readonly token?: string;
  readonly datacenter?: string;
  readonly waitSeconds: number;
}

/**
 * The few Consul HTTP API reads the catalog source needs, as blocking queries, and KV writes
 * (approvals of pinned definitions). It has its own
 * connection pool: every watch holds one connection for up to `waitSeconds`, and those must
 * not queue behind (or be cut by the timeouts of) tool calls to backends.
 */
export class ConsulHttp {
  private readonly agent: Agent;
  private readonly base: string;

  constructor(private readonly opts: ConsulHttpOptions) {
    this.base = opts.url.replace(/\/+$/, '');
    const waitMs = opts.waitSeconds * 1000;
    // Consul adds up to wait/16 of jitter before answering a blocking query; allow for that and a slow answer.
    this.agent = new Agent({ connect: { timeout: 2_000 }, headersTimeout: Math.ceil(waitMs + waitMs / 16 + 5_000), bodyTimeout: 30_000, keepAliveTimeout: 60_000 });
  }

  /** GET `path`; with `index` > 0 it blocks until something changed after that index (or the wait ends). */
  async read(path: string, query: Record<string, string>, index: number, signal: AbortSignal): Promise<ConsulRead> {
    const params = new URLSearchParams(query);
    if (this.opts.datacenter) params.set('dc', this.opts.datacenter);
    if (index > 0) {
      params.set('index', String(index));
      params.set('wait', `${this.opts.waitSeconds}s`);
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.opts.token) headers['x-consul-token'] = this.opts.token;
    let res;
    try {
      res = await request(`${this.base}${path}?${params}`, { dispatcher: this.agent, headers, signal });
    } catch (err) {
      throw new ConsulError(`cannot reach Consul at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode !== 200 && res.statusCode !== 404) {
      throw new ConsulError(`Consul answered ${path} with HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    }
    const next = Number(res.headers['x-consul-index']);
    if (!Number.isFinite(next)) throw new ConsulError(`Consul answered ${path} without a usable X-Consul-Index`);
    try {
      return { index: next, body: res.statusCode === 404 || text === '' ? null : JSON.parse(text) };
    } catch (err) {
      throw new ConsulError(`Consul answered ${path} with a body that is not JSON`, { cause: err });
    }
  }

  /** PUT `body` at `path` (a KV write); resolves with Consul's answer, `true` or `false` for a `cas` write. */
  async write(path: string, query: Record<string, string>, body: string): Promise<unknown> {
    const params = new URLSearchParams(query);
    if (this.opts.datacenter) params.set('dc', this.opts.datacenter);
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (this.opts.token) headers['x-consul-token'] = this.opts.token;
    let res;
    try {
      res = await request(`${this.base}${path}?${params}`, { method: 'PUT', dispatcher: this.agent, headers, body, signal: AbortSignal.timeout(10_000) });
    } catch (err) {
      throw new ConsulError(`cannot reach Consul at ${this.base}: ${(err as Error).message}`, { cause: err });
    }
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new ConsulError(`Consul answered PUT ${path} with HTTP ${res.statusCode}: ${text.slice(0, 200)}`);
    try {
      return JSON.parse(text);
    } catch (err) {
      throw new ConsulError(`Consul answered PUT ${path} with a body that is not JSON`, { cause: err });
    }
  }

  async close(): Promise<void> {
    await this.agent.destroy();
  }
}
