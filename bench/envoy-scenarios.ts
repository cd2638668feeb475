/**
 * The calls bench/envoy.ts measures, each as one scenario with its sides (direct, plain Envoy,
 * Envoy + do-nothing ext_proc, the Envoy topology) built on the Envoys and backends it started.
 */
import { openSession } from './mcp-session.js';
import { env, plan, poolFor } from './plan.js';
import type { Side } from './report.js';
import type { BenchEnvoy } from './envoys.js';
import * as t from './targets.js';

/** Every scenario, in the order they run and print; BENCH_ENVOY_SCENARIOS picks some. */
export const SCENARIOS = ['mcp', 'stateless', 'bridged', 'rest', 'list'] as const;
export type ScenarioName = (typeof SCENARIOS)[number];

/**
 * The fixed rate of the 2026-07-28 scenarios (BENCH_STATELESS_RATE): the SDK 2.4 server builds a
 * server per request and saturates near 400 calls/s on this machine, below the session scenario's
 * rate; latency is only comparable at a rate the backend itself sustains.
 */
export const STATELESS_RATE = env('BENCH_STATELESS_RATE', 200);

/**
 * The tools the topology's `tools/list` holds: one per backend of bench/configs.ts `callsConfig`
 * (orders_get_order, echo_echo, modern_echo, docs_doc_count). The backends' own lists hold one.
 */
const GATEWAY_TOOLS = 4;

export interface Scenario {
  readonly name: ScenarioName;
  /** What is called and which way it goes through the topology, for the verdict block. */
  readonly about: string;
  /** Fixed rate of its latency rows, req/s. */
  readonly rate: number;
  readonly sides: ReadonlyArray<readonly [Side, t.Target]>;
  /** The Envoys whose ext_proc counters give each side's round trips per call. */
  readonly counted: Partial<Record<Side, BenchEnvoy>>;
}

/** Where the scenarios' sides are reached. */
export interface Endpoints {
  /** The backends child's URLs (bench/servers.ts `backends`). */
  readonly backends: Readonly<Record<string, string>>;
  /** Plain Envoy in front of the echo backend, with `/orders/` routed to the orders API. */
  readonly plain: BenchEnvoy;
  /** The same with the do-nothing ext_proc filter. */
  readonly noop: BenchEnvoy;
  /** Plain Envoy in front of the 2026-07-28 backend. */
  readonly plainStateless: BenchEnvoy;
  /** envoy/envoy.yaml in front of the gateway process. */
  readonly topo: BenchEnvoy;
}

/** Parse BENCH_ENVOY_SCENARIOS (comma list, default all), refusing names that are not scenarios. */
export function chosenScenarios(value = process.env.BENCH_ENVOY_SCENARIOS): readonly ScenarioName[] {
  if (!value) return SCENARIOS;
  const names = value.split(',').map((s) => s.trim());
  const bad = names.filter((n) => !(SCENARIOS as readonly string[]).includes(n));
  if (bad.length) throw new Error(`BENCH_ENVOY_SCENARIOS: unknown scenario ${bad.join(', ')} (known: ${SCENARIOS.join(', ')})`);
  return SCENARIOS.filter((s) => names.includes(s));
}

/**
 * The targets of the `chosen` scenarios, each session opened once and kept (a session-era client
 * opens one and calls in it). The REST scenario's baselines call the API's own GET, since that is
 * what the REST tool stands for; through the topology the same order is a `tools/call` the broker
 * translates.
 */
export async function buildScenarios(e: Endpoints, chosen: readonly ScenarioName[]): Promise<Scenario[]> {
  const echo = poolFor(e.backends.echo!);
  const modern = poolFor(e.backends.stateless!);
  const orders = poolFor(e.backends.orders!);
  const viaPlain = poolFor(e.plain.endpoint);
  const viaPlainStateless = poolFor(e.plainStateless.endpoint);
  const viaNoop = poolFor(e.noop.endpoint);
  const viaTopo = poolFor(e.topo.endpoint);
  // One session per endpoint, shared by its scenarios: they run one after the other.
  const session = { echo: await openSession(echo.pool, echo.path), plain: await openSession(viaPlain.pool, viaPlain.path), noop: await openSession(viaNoop.pool, viaNoop.path), topo: await openSession(viaTopo.pool, viaTopo.path) };
  const envoyEcho = t.mcpCall('MCP via plain Envoy tools/call echo', viaPlain.pool, viaPlain.path, session.plain, 'echo');
  const routed = { noop: e.noop, gateway: e.topo };
  const all: Record<ScenarioName, () => Scenario> = {
    mcp: () => ({
      name: 'mcp',
      about: 'session-era tools/call echo; the topology routes it to the SDK 1.x backend\'s xDS cluster',
      rate: plan.callRate,
      sides: [
        ['direct', t.mcpDirect(echo.pool, echo.path, session.echo)],
        ['envoy', envoyEcho],
        ['noop', t.mcpCall('MCP via Envoy + do-nothing ext_proc (same filter, Node grpc-js) tools/call echo', viaNoop.pool, viaNoop.path, session.noop, 'echo')],
        ['gateway', t.mcpCall('MCP via Envoy + gateway (ext_proc, xDS cluster) tools/call echo_echo', viaTopo.pool, viaTopo.path, session.topo, 'echo_echo')],
      ],
      counted: routed,
    }),
    stateless: () => ({
      name: 'stateless',
      about: '2026-07-28 tools/call echo (no session, method and tool in headers); the topology routes it to the SDK 2.4 backend\'s xDS cluster',
      rate: STATELESS_RATE,
      sides: [
        ['direct', t.statelessCall('MCP 2026-07-28 direct tools/call echo (SDK 2.4 server)', modern.pool, modern.path, 'echo')],
        ['envoy', t.statelessCall('MCP 2026-07-28 via plain Envoy tools/call echo', viaPlainStateless.pool, viaPlainStateless.path, 'echo')],
        ['gateway', t.statelessCall('MCP 2026-07-28 via Envoy + gateway (ext_proc, xDS cluster) tools/call modern_echo', viaTopo.pool, viaTopo.path, 'modern_echo')],
      ],
      counted: { gateway: e.topo },
    }),
    // Judged against plain Envoy in front of the same (session-era) backend.
    bridged: () => ({
      name: 'bridged',
      about: '2026-07-28 client\'s tools/call of the session-era backend; the broker carries it across the eras',
      rate: STATELESS_RATE,
      sides: [
        ['envoy', envoyEcho],
        ['gateway', t.statelessCall('MCP 2026-07-28 via Envoy + gateway (ext_proc, broker bridging to the session-era backend) tools/call echo_echo', viaTopo.pool, viaTopo.path, 'echo_echo')],
      ],
      counted: { gateway: e.topo },
    }),
    rest: () => ({
      name: 'rest',
      about: 'REST GET /orders/1001; through the topology a session-era tools/call orders_get_order, which the broker translates',
      rate: plan.callRate,
      sides: [
        ['direct', t.restDirect(orders.pool)],
        ['envoy', t.restGet('REST via plain Envoy GET /orders/1001', viaPlain.pool)],
        ['noop', t.restGet('REST via Envoy + do-nothing ext_proc GET /orders/1001', viaNoop.pool)],
        ['gateway', t.restGateway(viaTopo.pool, viaTopo.path, session.topo, 'REST via Envoy + gateway (ext_proc, broker) tools/call orders_get_order')],
      ],
      counted: routed,
    }),
    list: () => ({
      name: 'list',
      about: `session-era tools/list: the echo backend's own (1 tool); through the topology the broker's aggregated catalog (${GATEWAY_TOOLS} tools)`,
      rate: plan.callRate,
      sides: [
        ['direct', t.listPage('MCP direct tools/list (1 tool)', echo.pool, echo.path, session.echo, 'tools', 1, false)],
        ['envoy', t.listPage('MCP via plain Envoy tools/list (1 tool)', viaPlain.pool, viaPlain.path, session.plain, 'tools', 1, false)],
        ['noop', t.listPage('MCP via Envoy + do-nothing ext_proc tools/list (1 tool)', viaNoop.pool, viaNoop.path, session.noop, 'tools', 1, false)],
        ['gateway', t.listPage(`MCP via Envoy + gateway (ext_proc, broker) tools/list (${GATEWAY_TOOLS} tools)`, viaTopo.pool, viaTopo.path, session.topo, 'tools', GATEWAY_TOOLS, false)],
      ],
      counted: routed,
    }),
  };
  return chosen.map((name) => all[name]());
}
