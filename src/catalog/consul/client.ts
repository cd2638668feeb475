import http from 'node:http';
import https from 'node:https';
import type { Socket } from 'node:net';
import Consul from 'consul';

/** A failed Consul request (unreachable, timed out, or an unexpected answer): a local error, never sent to clients. */
export class ConsulError extends Error {
  readonly code = 'GW_CONSUL_UNAVAILABLE';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ConsulError';
  }
}

/** Where and as whom the gateway talks to Consul (the `catalog.consul` settings it needs). */
export interface ConsulClientOptions {
  readonly url: string;
  readonly token?: string;
  readonly datacenter?: string;
  /** Default timeout of one call (watches set their own, longer than a blocking query). */
  readonly timeoutMs?: number;
}

/** A connection that is not up after this long fails at once, instead of when a blocking query's long timeout ends. */
const CONNECT_TIMEOUT_MS = 2_000;

/**
 * The `consul` package's client with its own keep-alive agent: every watch holds one connection
 * for up to `waitSeconds`, and those must not queue behind, or share a pool or timeouts with,
 * tool calls (which go through undici). The token, datacenter and timeout go on every call as defaults.
 */
export function consulClient(o: ConsulClientOptions): Consul {
  const base = o.url.replace(/\/+$/, '');
  // `timeout` is a documented common option the .d.ts leaves out, like `baseUrl` below.
  const defaults: { token?: string; dc?: string; timeout?: number } = {};
  if (o.token) defaults.token = o.token;
  if (o.datacenter) defaults.dc = o.datacenter;
  if (o.timeoutMs) defaults.timeout = o.timeoutMs;
  // `baseUrl` is documented in the package's README (options passed on to papi) but missing from
  // its .d.ts; unlike host/port it keeps a path prefix (Consul behind a proxy).
  const options: ConstructorParameters<typeof Consul>[0] & { baseUrl: string } = {
    baseUrl: `${base}/v1`,
    defaults,
    agent: withConnectTimeout(base.startsWith('https:') ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true })),
  };
  return new Consul(options);
}

/**
 * Node's agents have no connect timeout, and the package's only timeout is per request, where it
 * must outlast a blocking query: without this a Consul host that drops packets would be noticed
 * only after `waitSeconds`.
 */
function withConnectTimeout(agent: http.Agent): http.Agent {
  const create = agent.createConnection.bind(agent);
  agent.createConnection = (options, callback) => {
    const socket = create(options, callback) as Socket;
    if (!socket.connecting) return socket;
    const timer = setTimeout(() => socket.destroy(new Error(`connect timed out after ${CONNECT_TIMEOUT_MS} ms`)), CONNECT_TIMEOUT_MS);
    const clear = (): void => clearTimeout(timer);
    socket.once('connect', clear).once('close', clear);
    return socket;
  };
  return agent;
}

/** What the package rejects with: papi's errors carry the HTTP answer, network errors a `code`. */
interface PackageError extends Error {
  readonly response?: { readonly statusCode?: number; readonly body?: unknown };
}

/** Name a failed call the way operators read it in /healthz and the log: what was asked, and what Consul (or the network) said. */
export function consulFailure(err: unknown, what: string, url: string): ConsulError {
  if (err instanceof ConsulError) return err;
  const e = err as PackageError;
  const status = e.response?.statusCode;
  if (status !== undefined) {
    const body = e.response?.body;
    const text = typeof body === 'string' ? body : Buffer.isBuffer(body) ? body.toString('utf8') : JSON.stringify(body ?? '');
    return new ConsulError(`Consul answered ${what} with HTTP ${status}: ${text.slice(0, 200)}`, { cause: err });
  }
  return new ConsulError(`cannot reach Consul at ${url}: ${e.message}`, { cause: err });
}
