/** The Consul agent API calls a tool service team makes, for tests: register, health, KV. */

export interface ServiceRegistration {
  readonly id: string;
  readonly name: string;
  /** Base URL of the instance, e.g. `http://127.0.0.1:4321`. */
  readonly url: string;
  readonly meta: Record<string, string>;
  /** `ttl`: a TTL check the test passes/fails by hand (starts passing); `http`: Consul GETs `<url><path>` every second. */
  readonly check?: { kind: 'ttl' } | { kind: 'http'; path: string };
}

async function put(consul: string, path: string, body?: unknown): Promise<void> {
  const res = await fetch(`${consul}${path}`, {
    method: 'PUT',
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`consul PUT ${path}: HTTP ${res.status} ${await res.text()}`);
}

/** Register one instance with the local agent (as `consul services register` would). */
export async function register(consul: string, r: ServiceRegistration): Promise<void> {
  const u = new URL(r.url);
  const check = r.check ?? { kind: 'ttl' };
  await put(consul, '/v1/agent/service/register', {
    ID: r.id,
    Name: r.name,
    Address: u.hostname,
    Port: Number(u.port),
    Meta: r.meta,
    Check:
      check.kind === 'ttl'
        ? { CheckID: `service:${r.id}`, TTL: '10m', Status: 'passing' }
        : { CheckID: `service:${r.id}`, HTTP: `${r.url}${check.path}`, Interval: '1s', Timeout: '1s' },
  });
}

export const deregister = (consul: string, id: string): Promise<void> => put(consul, `/v1/agent/service/deregister/${id}`);

/** Flip a TTL check: `passing` sends traffic to the instance again, `critical` takes it out. */
export const setHealth = (consul: string, id: string, status: 'passing' | 'critical'): Promise<void> =>
  put(consul, `/v1/agent/check/${status === 'passing' ? 'pass' : 'fail'}/service:${id}`);

export const kvPut = (consul: string, key: string, value: unknown): Promise<void> =>
  put(consul, `/v1/kv/${key}`, typeof value === 'string' ? value : JSON.stringify(value));

export const kvDelete = async (consul: string, key: string): Promise<void> => {
  const res = await fetch(`${consul}/v1/kv/${key}`, { method: 'DELETE' });
  if (!res.ok) throw new Error(`consul DELETE ${key}: HTTP ${res.status}`);
};

/** Polling for Consul-driven changes (generous bound: the gateway's own target is 2 s). */
export { waitFor } from './wait.js';
