/**
 * Self-registration of an example backend in Consul, following the registration contract in
 * docs/consul.md (service meta, REST tool definitions in KV). In docker-compose each backend
 * registers itself at start and deregisters at stop: no one-shot registration job to order
 * against the agent, and the registered address is the one the backend actually serves on.
 */
/** One backend instance as Consul should know it. */
export interface ConsulRegistration {
  /** Consul HTTP API, e.g. `http://consul:8500`. */
  readonly consulUrl: string;
  /** Service name: the gateway's backend name and tool prefix. */
  readonly name: string;
  readonly kind: 'rest' | 'mcp';
  /** Address other containers reach this instance at (its compose service name). */
  readonly address: string;
  readonly port: number;
  /** `mcp-path` meta: the MCP endpoint of a native server. */
  readonly path?: string;
  /** REST tool definitions, stored at KV `mcp/tools/<name>`. */
  readonly tools?: readonly unknown[];
}

async function put(url: string, body: unknown): Promise<void> {
  const res = await fetch(url, { method: 'PUT', body: JSON.stringify(body), signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`PUT ${url}: HTTP ${res.status} ${await res.text()}`);
}

/**
 * Register the instance (with a TCP check, passing from the start so its tools appear at once),
 * and its REST tools; retried while the agent is not up yet. Resolves with a deregistration.
 */
export async function registerInConsul(reg: ConsulRegistration, timeoutMs = 120_000): Promise<() => Promise<void>> {
  const id = `${reg.name}-${reg.address}-${reg.port}`;
  const service = {
    ID: id,
    Name: reg.name,
    Address: reg.address,
    Port: reg.port,
    Meta: { 'mcp-enabled': 'true', 'mcp-kind': reg.kind, ...(reg.path ? { 'mcp-path': reg.path } : {}) },
    Check: { TCP: `${reg.address}:${reg.port}`, Interval: '5s', Timeout: '2s', Status: 'passing', DeregisterCriticalServiceAfter: '1m' },
  };
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Tools first: the gateway reads them as soon as it sees the service.
      if (reg.tools) await put(`${reg.consulUrl}/v1/kv/mcp/tools/${reg.name}`, reg.tools);
      await put(`${reg.consulUrl}/v1/agent/service/register`, service);
      break;
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  return async () => {
    await fetch(`${reg.consulUrl}/v1/agent/service/deregister/${encodeURIComponent(id)}`, { method: 'PUT', signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  };
}
