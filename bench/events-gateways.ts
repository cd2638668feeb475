/**
 * Child process of `bench/events.ts`: gateways in front of the same orders REST API, the same
 * configuration except `events.store`: `off` (the code path without event ids), `memory`, and
 * `hazelcast` when a member address is given (sessions stay in memory, so only the event store
 * differs). Usage (forked): `events-gateways.js <orders-url> [<cluster> <member>]`.
 */
import { parseConfig } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { hostGateways } from './gateway-child.js';

function config(ordersUrl: string, events: Record<string, unknown>, hazelcast?: { clusterName: string; members: string[] }) {
  return parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'warn' },
    audit: { sink: 'off' },
    events,
    sessions: { store: 'memory', ...(hazelcast ? { hazelcast } : {}) },
    backends: [
      {
        name: 'orders',
        kind: 'rest',
        urls: [ordersUrl],
        tools: [
          {
            name: 'track_order',
            inputSchema: { type: 'object', properties: { id: { type: 'string' }, delayMs: { type: 'integer' } }, required: ['id'] },
            annotations: { readOnlyHint: true },
            http: { method: 'GET', path: '/orders/{id}/events' },
          },
        ],
      },
    ],
  });
}

async function main(): Promise<void> {
  const [ordersUrl, clusterName, member] = process.argv.slice(2);
  if (!ordersUrl || !process.send) throw new Error('usage: forked by bench/events.js with <orders-url> [<cluster> <member>]');
  const gateways: Record<string, { url: string; stop(): Promise<void> }> = {
    off: await runStandalone(config(ordersUrl, { store: 'off' })),
    memory: await runStandalone(config(ordersUrl, { store: 'memory' })),
  };
  if (clusterName && member) gateways.hazelcast = await runStandalone(config(ordersUrl, { store: 'hazelcast' }, { clusterName, members: [member] }));
  hostGateways(gateways);
}

main().catch((err: unknown) => {
  console.error('events bench gateways failed:', err);
  process.exit(1);
});
