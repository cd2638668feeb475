/**
 * One example backend as its own process, for docker-compose (the gateway image runs it):
 *
 *   BACKEND=orders|notes  which one
 *   HOST (0.0.0.0), PORT (orders 8081, notes 8082)  where it listens
 *   CONSUL_HTTP_ADDR      when set, it registers itself there (consul-register.ts) as
 *                         ADVERTISE_ADDRESS (the host name)
 *
 * The REST tools it registers for orders are those of examples/gateway.yaml, so the two ways of
 * running the example describe the API once.
 */
import { hostname } from 'node:os';
import { loadConfigFile } from '../../src/config/load.js';
import { EXAMPLE_CONFIG_FILE } from '../example-stack.js';
import { registerInConsul } from './consul-register.js';
import { startNotesServer } from './notes-mcp.js';
import { startOrdersApi } from './orders-api.js';

const BACKENDS = {
  orders: { kind: 'rest', port: 8081, start: startOrdersApi, path: undefined },
  notes: { kind: 'mcp', port: 8082, start: startNotesServer, path: '/mcp' },
} as const;

async function orderTools(): Promise<readonly unknown[]> {
  const config = await loadConfigFile(EXAMPLE_CONFIG_FILE, {});
  const orders = config.backends.find((b) => b.name === 'orders');
  if (orders?.kind !== 'rest') throw new Error(`${EXAMPLE_CONFIG_FILE} has no REST backend "orders"`);
  return orders.tools;
}

async function main(): Promise<void> {
  const name = process.env.BACKEND ?? '';
  if (name !== 'orders' && name !== 'notes') throw new Error(`BACKEND must be "orders" or "notes", got "${name}"`);
  const backend = BACKENDS[name];
  const port = Number(process.env.PORT || backend.port);
  const server = await backend.start({ host: process.env.HOST || '0.0.0.0', port });
  process.stdout.write(`${name} listening on port ${port}\n`);
  let deregister = async (): Promise<void> => undefined;
  if (process.env.CONSUL_HTTP_ADDR) {
    deregister = await registerInConsul({
      consulUrl: process.env.CONSUL_HTTP_ADDR.replace(/\/+$/, ''),
      name,
      kind: backend.kind,
      address: process.env.ADVERTISE_ADDRESS || hostname(),
      port,
      path: backend.path,
      tools: name === 'orders' ? await orderTools() : undefined,
    });
    process.stdout.write(`${name} registered in Consul at ${process.env.CONSUL_HTTP_ADDR}\n`);
  }
  const stop = async (): Promise<void> => {
    await deregister();
    await server.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}

main().catch((err: unknown) => {
  process.stderr.write(`serve: ${(err as Error).message}\n`);
  process.exit(1);
});
