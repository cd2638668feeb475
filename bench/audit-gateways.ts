/**
 * Child process of `bench/audit.ts`: two gateways in front of the same orders REST API, the same
 * configuration except the audit sink: `off` and `file` (JSON lines in a temporary folder).
 * Usage (forked): `audit-gateways.js <orders-url> <audit-file>`. Reports `{ type: 'ready', urls }`
 * over IPC; answers `{ type: 'cpu' }` with this process's CPU time and the audit file's size;
 * stops on `{ type: 'stop' }` or when the parent goes away.
 */
import { stat } from 'node:fs/promises';
import { parseConfig } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { hostGateways } from './gateway-child.js';

function config(ordersUrl: string, audit: Record<string, unknown>) {
  return parseConfig({
    server: { host: '127.0.0.1', port: 0 },
    logging: { level: 'warn' },
    audit,
    backends: [
      {
        name: 'orders',
        kind: 'rest',
        urls: [ordersUrl],
        tools: [
          {
            name: 'get_order',
            inputSchema: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } }, required: ['id'], additionalProperties: false },
            annotations: { readOnlyHint: true },
            http: { method: 'GET', path: '/orders/{id}' },
          },
        ],
      },
    ],
  });
}

async function main(): Promise<void> {
  const [ordersUrl, auditFile] = process.argv.slice(2);
  if (!ordersUrl || !auditFile || !process.send) throw new Error('usage: forked by bench/audit.js with <orders-url> <audit-file>');
  const off = await runStandalone(config(ordersUrl, { sink: 'off' }));
  const file = await runStandalone(config(ordersUrl, { sink: 'file', file: auditFile }));
  hostGateways({ off, file }, async () => ({ auditBytes: await stat(auditFile).then((s) => s.size, () => 0) }));
}

main().catch((err: unknown) => {
  console.error('audit bench gateways failed:', err);
  process.exit(1);
});
