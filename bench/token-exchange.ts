/**
 * `npm run bench:exchange` (also part of `npm run bench`): what a cached token exchange costs a
 * `tools/call`. A real Keycloak (the test harness's, with the token exchange realm) issues the
 * caller's token; two gateways in one child process verify it, identical but for the orders
 * backend's credentials: none, or the caller's token exchanged at Keycloak for one of the backend
 * (RFC 8693). After the first call the exchanged token comes from the cache, so the figure is the
 * cache hit: key digest, LRU bookkeeping, the header. Rounds alternate which side goes first;
 * medians over rounds. Skipped with a note when Keycloak is not installed.
 *
 * Knobs (env): BENCH_EXCHANGE_ROUNDS (5), BENCH_EXCHANGE_REQUESTS (2000 per side and round),
 * BENCH_EXCHANGE_WARMUP (300), BENCH_EXCHANGE_CONCURRENCY (8, the saturated run).
 */
import type { ChildProcess } from 'node:child_process';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { pino } from 'pino';
import { Agent, Pool } from 'undici';
import { withBearer } from '../src/auth/caller.js';
import type { BackendDescriptor } from '../src/catalog/model.js';
import { backendSchema } from '../src/config/schema.js';
import { OutboundCredentials } from '../src/upstream/credentials.js';
import { keycloakHome } from '../test/harness/components.js';
import { startKeycloak, type KeycloakHandle } from '../test/harness/keycloak.js';
import { startChild, type Child } from './children.js';
import { GET_ORDER_TOOL } from './configs.js';
import { forkGateways, measureRounds, stopGateways } from './gateway-child.js';
import { installed } from './installed.js';
import { openSession } from './mcp-session.js';
import { env } from './plan.js';
import { medianOf, ratioLine, roundsTable } from './rounds-table.js';
import { median } from './stats.js';
import { restGateway, type Target } from './targets.js';

const ROUNDS = env('BENCH_EXCHANGE_ROUNDS', 5);
const REQUESTS = env('BENCH_EXCHANGE_REQUESTS', 2000);
const WARMUP = env('BENCH_EXCHANGE_WARMUP', 300);
const SATURATION = env('BENCH_EXCHANGE_CONCURRENCY', 8);
const GATEWAYS = fileURLToPath(new URL('./exchange-gateways.js', import.meta.url));
const REALM = fileURLToPath(new URL('../../test/fixtures/keycloak/mcp-realm.json', import.meta.url));

const f = (v: number, d = 3): string => (Number.isFinite(v) ? v.toFixed(d) : '-');

async function main(): Promise<void> {
  if (!installed(keycloakHome)) {
    console.log('\ntoken exchange bench: skipped, Keycloak is not installed (run `bash scripts/install-components.sh keycloak`).');
    return;
  }
  let kc: KeycloakHandle | undefined;
  let backends: Child | undefined;
  let gateways: ChildProcess | undefined;
  const pools: Pool[] = [];
  try {
    kc = await startKeycloak({ realmFile: REALM });
    console.log(`\ntoken exchange bench: Keycloak ready in ${(kc.startMs / 1000).toFixed(1)} s`);
    backends = await startChild(['backends']);
    process.env.MCP_GW_BENCH_EXCHANGE_SECRET = 'gateway-secret';
    const started = await forkGateways(GATEWAYS, [backends.urls.orders!, kc.issuer, kc.tokenUrl], 'token exchange gateways');
    gateways = started.child;
    const token = await kc.token({ grant_type: 'password', client_id: 'mcp-client', username: 'alice', password: 'alice-pw' });
    const targets: Record<string, Target> = {};
    for (const [side, url] of Object.entries(started.urls)) {
      const u = new URL(url);
      const pool = new Pool(u.origin, { connections: SATURATION, keepAliveTimeout: 60_000 });
      pools.push(pool);
      targets[side] = restGateway(pool, u.pathname, await openSession(pool, u.pathname, {}, { authorization: `Bearer ${token}` }));
      await targets[side].verify();
    }
    console.log(`node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}; ${ROUNDS} rounds × ${REQUESTS} calls per side (after ${WARMUP} warm-up)`);
    const samples = await measureRounds(gateways, targets, { rounds: ROUNDS, concurrencies: [1, SATURATION], warmup: WARMUP, requests: REQUESTS });
    console.log('tools/call orders_get_order (REST) with a Keycloak token; gateways identical but for the backend credentials; medians over rounds');
    console.log(roundsTable(samples, ['plain', 'exchange'], 'plain', [1, SATURATION]));
    // About zero: after the first call every exchanged token comes from the cache, the figure this bench is after.
    const exchanges = [1, SATURATION].map((c) => `c=${c} ${f(1000 * medianOf(samples, `exchange@${c}`, (s) => s.extra.exchanged ?? 0), 2)}`).join(', ');
    console.log(`exchanges at Keycloak per 1,000 calls of the exchange side: ${exchanges}`);
    console.log(`cached token exchange on tools/call, as a ratio to the same call without it: ${ratioLine(samples, 'exchange', 'plain', SATURATION)}`);
    await headersCost(kc, token);
  } finally {
    await Promise.allSettled(pools.map((p) => p.close()));
    await stopGateways(gateways);
    await backends?.stop();
    await kc?.stop();
  }
}

/**
 * The cache hit alone, in process: `OutboundCredentials.headers()` for a backend without
 * credentials and for one with a cached exchange (the first call exchanges at Keycloak). Blocks of
 * calls alternate between the two; medians over blocks. Far below what the end-to-end figures
 * above can resolve on a shared machine.
 */
async function headersCost(kc: KeycloakHandle, token: string): Promise<void> {
  const dispatcher = new Agent();
  const creds = new OutboundCredentials(dispatcher, pino({ level: 'silent' }));
  const backend = (name: string, credentials: Record<string, unknown>): BackendDescriptor => backendSchema.parse({ name, kind: 'rest', urls: ['http://127.0.0.1:1'], credentials, tools: [GET_ORDER_TOOL] });
  const plain = backend('plain', { type: 'none' });
  const exchange = backend('exchange', { type: 'oauth2-token-exchange', tokenUrl: kc.tokenUrl, clientId: 'mcp-gateway', clientSecret: { env: 'MCP_GW_BENCH_EXCHANGE_SECRET' }, audience: 'backend-rest' });
  const claims = decodeJwt(token);
  const caller = withBearer({ principal: { issuer: kc.issuer, subject: claims.sub! }, scopes: [], roles: [], claims }, token);
  await creds.headers(exchange, caller);
  const perCall = async (backend: BackendDescriptor, n: number): Promise<number> => {
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i++) await creds.headers(backend, caller, { accept: 'application/json' });
    return Number(process.hrtime.bigint() - start) / 1000 / n;
  };
  const blocks: Record<'plain' | 'exchange', number[]> = { plain: [], exchange: [] };
  for (let b = 0; b < 7; b++) {
    blocks.plain.push(await perCall(plain, 50_000));
    blocks.exchange.push(await perCall(exchange, 50_000));
  }
  await dispatcher.close();
  const p = median(blocks.plain);
  const e = median(blocks.exchange);
  console.log(`outbound headers in process, medians of 7 × 50,000 calls: no credentials ${f(p, 2)} µs, cached exchange ${f(e, 2)} µs (+${f(e - p, 2)} µs per call)`);
}

main().catch((err: unknown) => {
  console.error('token exchange bench failed:', err);
  process.exitCode = 1;
});
