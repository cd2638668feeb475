/**
 * Child process of `bench/xinstance.ts`: two standalone gateways sharing sessions in one
 * Hazelcast cluster, in front of one backend that speaks only 2026-07-28 (the tests' real
 * `@modelcontextprotocol/server` 2.4 server), identical in all else.
 * Usage (forked): `xinstance-gateways.js <cluster> <member>`.
 */
import { parseConfig } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { startModernServer } from '../test/support/modern-mcp.js';
import { hostGateways } from './gateway-child.js';

async function gateway(backend: string, clusterName: string, member: string) {
  const gw = await runStandalone(
    parseConfig({
      server: { host: '127.0.0.1', port: 0 },
      logging: { level: 'warn' },
      audit: { sink: 'off' },
      sessions: { store: 'hazelcast', hazelcast: { clusterName, members: [member] } },
      backends: [{ name: 'modern', kind: 'mcp', urls: [backend], prefix: '' }],
    }),
  );
  for (const end = Date.now() + 20_000; !gw.core.catalog.current().tools.has('summarize'); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > end) throw new Error('the modern backend was not discovered in 20 s');
  }
  return gw;
}

async function main(): Promise<void> {
  const [clusterName, member] = process.argv.slice(2);
  if (!clusterName || !member || !process.send) throw new Error('usage: forked by bench/xinstance.js with <cluster> <member>');
  const modern = await startModernServer();
  const [a, b] = [await gateway(modern.url, clusterName, member), await gateway(modern.url, clusterName, member)];
  hostGateways({ a, b, backend: { url: modern.url, stop: () => modern.close() } });
}

main().catch((err: unknown) => {
  console.error('xinstance bench gateways failed:', err);
  process.exit(1);
});
