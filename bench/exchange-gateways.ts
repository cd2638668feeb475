/**
 * Child process of `bench/token-exchange.ts`: two gateways in front of the same orders REST API,
 * both verifying the caller's Keycloak token, identical but for the backend's credentials: none
 * (`plain`) or the caller's token exchanged at Keycloak (`exchange`, RFC 8693).
 * Usage (forked): `exchange-gateways.js <orders-url> <issuer> <token-url>`, with the gateway's
 * client secret in MCP_GW_BENCH_EXCHANGE_SECRET. Reports `{ type: 'ready', urls }` over IPC and
 * answers `{ type: 'cpu' }` with its CPU time and the count of exchanges made (`hostGateways`).
 */
import { parseConfig } from '../src/config/load.js';
import { runStandalone } from '../src/standalone/run.js';
import { GATEWAY_BASE, GET_ORDER_TOOL } from './configs.js';
import { hostGateways } from './gateway-child.js';

function config(ordersUrl: string, issuer: string, credentials: Record<string, unknown>) {
  return parseConfig({
    ...GATEWAY_BASE,
    auth: { issuer, audience: 'mcp-gateway' },
    backends: [{ name: 'orders', kind: 'rest', urls: [ordersUrl], credentials, tools: [GET_ORDER_TOOL] }],
  });
}

async function main(): Promise<void> {
  const [ordersUrl, issuer, tokenUrl] = process.argv.slice(2);
  if (!ordersUrl || !issuer || !tokenUrl || !process.send) throw new Error('usage: forked by bench/token-exchange.js with <orders-url> <issuer> <token-url>');
  const plain = await runStandalone(config(ordersUrl, issuer, { type: 'none' }));
  const exchange = await runStandalone(
    config(ordersUrl, issuer, { type: 'oauth2-token-exchange', tokenUrl, clientId: 'mcp-gateway', clientSecret: { env: 'MCP_GW_BENCH_EXCHANGE_SECRET' }, audience: 'backend-rest' }),
  );
  const exchanges = async (): Promise<Record<string, number>> => {
    const { body } = await exchange.core.telemetry.metrics.scrape();
    return { exchanged: Number(/mcp_gateway_token_exchanges_total\{backend="orders",outcome="exchanged"\} (\d+)/.exec(body)?.[1] ?? 0) };
  };
  hostGateways({ plain, exchange }, exchanges);
}

main().catch((err: unknown) => {
  console.error('token exchange bench gateways failed:', err);
  process.exit(1);
});
