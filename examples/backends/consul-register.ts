/**
 * Self-registration of an example backend in Consul, following the registration contract in
 * docs/consul.md (service meta, REST tool definitions in KV). In docker-compose each backend
 * registers itself at start and deregisters at stop: no one-shot registration job to order
 * against the agent, and the registered address is the one the backend actually serves on.
 * It talks to Consul through the `consul` package, as the gateway does.
 */
import { consulClient } from '../../src/catalog/consul/client.js';

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

/**
 * Register the instance (with a TCP check, passing from the start so its tools appear at once),
 * and its REST tools; retried while the agent is not up yet. Resolves with a deregistration.
 */
export async function registerInConsul(reg: ConsulRegistration, timeoutMs = 120_000): Promise<() => Promise<void>> {
  // Per call 5 s: the agent answers registrations at once, or is not up yet.
  const consul = consulClient({ url: reg.consulUrl, timeoutMs: 5_000 });
  const id = `${reg.name}-${reg.address}-${reg.port}`;
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      // Tools first: the gateway reads them as soon as it sees the service.
      if (reg.tools) await consul.kv.set(`mcp/tools/${reg.name}`, JSON.stringify(reg.tools));
      await consul.agent.service.register({
        id,
        name: reg.name,
        address: reg.address,
        port: reg.port,
        meta: { 'mcp-enabled': 'true', 'mcp-kind': reg.kind, ...(reg.path ? { 'mcp-path': reg.path } : {}) },
        check: { name: `${reg.name} TCP`, tcp: `${reg.address}:${reg.port}`, interval: '5s', timeout: '2s', status: 'passing', deregistercriticalserviceafter: '1m' },
      });
      break;
    } catch (err) {
      if (Date.now() > end) {
        consul.destroy();
        throw err;
      }
      await new Promise((r) => setTimeout(r, 1_000));
    }
  }
  return async () => {
    await consul.agent.service.deregister(id).catch(() => undefined);
    consul.destroy();
  };
}
