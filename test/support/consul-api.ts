/** The Consul agent API calls a tool service team makes, for tests: register, health, KV (through the `consul` package). */
import type Consul from 'consul';
import { consulClient } from '../../src/catalog/consul/client.js';

export interface ServiceRegistration {
  readonly id: string;
  readonly name: string;
  /** Base URL of the instance, e.g. `http://127.0.0.1:4321`. */
  readonly url: string;
  readonly meta: Record<string, string>;
  /** `ttl`: a TTL check the test passes/fails by hand (starts passing); `http`: Consul GETs `<url><path>` every second. */
  readonly check?: { kind: 'ttl' } | { kind: 'http'; path: string };
}

/** One call with a client of its own: a test may stop Consul and start another on the same port. */
async function call<T>(url: string, fn: (consul: Consul) => Promise<T>): Promise<T> {
  const consul = consulClient({ url, timeoutMs: 10_000 });
  try {
    return await fn(consul);
  } finally {
    consul.destroy();
  }
}

/** Register one instance with the local agent (as `consul services register` would). */
export async function register(consul: string, r: ServiceRegistration): Promise<void> {
  const u = new URL(r.url);
  const check = r.check ?? { kind: 'ttl' };
  await call(consul, (c) =>
    c.agent.service.register({
      id: r.id,
      name: r.name,
      address: u.hostname,
      port: Number(u.port),
      meta: r.meta,
      check:
        check.kind === 'ttl'
          ? { name: `${r.id} TTL`, checkid: `service:${r.id}`, ttl: '10m', status: 'passing', timeout: '1s' }
          : { name: `${r.id} HTTP`, checkid: `service:${r.id}`, http: `${r.url}${check.path}`, interval: '1s', timeout: '1s' },
    }),
  );
}

export const deregister = (consul: string, id: string): Promise<void> => call(consul, (c) => c.agent.service.deregister(id));

/** Flip a TTL check: `passing` sends traffic to the instance again, `critical` takes it out. */
export const setHealth = (consul: string, id: string, status: 'passing' | 'critical'): Promise<void> =>
  call(consul, (c) => (status === 'passing' ? c.agent.check.pass(`service:${id}`) : c.agent.check.fail(`service:${id}`)));

export const kvPut = (consul: string, key: string, value: unknown): Promise<void> =>
  call(consul, async (c) => void (await c.kv.set(key, typeof value === 'string' ? value : JSON.stringify(value))));

export const kvDelete = (consul: string, key: string): Promise<void> => call(consul, async (c) => void (await c.kv.del(key)));

/** Polling for Consul-driven changes (generous bound: the gateway's own target is 2 s). */
export { waitFor } from './wait.js';
