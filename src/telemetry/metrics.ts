import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { DEFAULT_SERVER } from '../config/virtual-server-schema.js';
import type { HealthReport } from '../health.js';
import type { Era } from '../mcp/era.js';

/** What the scrape-time gauges read. Kept as functions so telemetry needs no concrete core classes. */
export interface MetricsSources {
  /** Live sessions (may be a network call: Hazelcast); bounded by a timeout at scrape time. */
  sessions(): Promise<number>;
  catalog(): { readonly tools: number; readonly stale: boolean; readonly ageSeconds: number };
  /** Every instance of every backend in the current catalog, and whether it is in its cooldown. */
  instances(): Iterable<{ readonly backend: string; readonly instance: string; readonly cooling: boolean }>;
  /** Pinned definitions not served as their backend serves them (absent: pinning is off). */
  pinFindings?(): Iterable<{ readonly backend: string; readonly kind: string; readonly status: 'new' | 'drifted' }>;
  /** The era each native backend was found to speak (`session` or `stateless`). */
  eras(): ReadonlyMap<string, string>;
  /** Each backend with a `maxConcurrentCalls` in the current catalog: its cap and the calls open to it on this process. */
  capped?(): Iterable<{ readonly backend: string; readonly open: number; readonly max: number }>;
  /** The readiness checks (the admin `/readyz`), once the core is assembled. */
  health?(): HealthReport | undefined;
}

/** The prefix of every gateway metric, process metrics included. */
export const METRICS_PREFIX = 'mcp_gateway_';

/** Outcomes of a `tools/call` that ran (see docs/observability.md). */
/** How a call ended; `backend_error`: a routed request the backend answered with its own JSON-RPC error. */
/** `cut`: the gateway stopped (its shutdown grace period ended) before the call did. */
/** `busy`: refused at the backend's `maxConcurrentCalls` without reaching it (the gateway shed the load; the backend did not fail). */
export type CallOutcome = 'ok' | 'tool_error' | 'backend_error' | 'upstream_error' | 'busy' | 'timeout' | 'cancelled' | 'cut' | 'internal_error';

const SESSIONS_TIMEOUT_MS = 1_000;
const DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

/**
 * The gateway's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * several gateways in one process never clash. Labels are bounded: tool and backend names come
 * from the catalog, instances from backend configuration or Consul; never session ids.
 */
export class GatewayMetrics {
  readonly registry = new Registry();
  private readonly toolCalls: Counter<'tool' | 'backend' | 'outcome' | 'virtual_server' | 'era'>;
  private readonly duration: Histogram<'backend' | 'outcome' | 'era'>;
  private readonly requests: Counter<'method' | 'backend' | 'outcome' | 'virtual_server' | 'era'>;
  private readonly denials: Counter<'reason_code' | 'virtual_server'>;
  private readonly auditDrops: Counter;
  private readonly resumes: Counter<'result'>;
  private readonly exchanges: Counter<'backend' | 'outcome'>;

  /** `processMetrics`: prom-client's default process and Node.js runtime metrics, under the gateway's prefix. */
  constructor(sources: MetricsSources, processMetrics = true) {
    const registers = [this.registry];
    if (processMetrics) collectDefaultMetrics({ register: this.registry, prefix: METRICS_PREFIX });
    this.toolCalls = new Counter({
      name: 'mcp_gateway_tool_calls_total',
      help: 'tools/call requests that reached a backend, by outcome, endpoint and the protocol era of the client',
      labelNames: ['tool', 'backend', 'outcome', 'virtual_server', 'era'],
      registers,
    });
    this.requests = new Counter({
      name: 'mcp_gateway_requests_total',
      help: "Requests routed to a backend by resource URI, prompt name or completion ref, by method, outcome, endpoint and the client's protocol era",
      labelNames: ['method', 'backend', 'outcome', 'virtual_server', 'era'],
      registers,
    });
    this.duration = new Histogram({
      name: 'mcp_gateway_tool_call_duration_seconds',
      help: 'Time from admission to the end of a tools/call (backend time included)',
      labelNames: ['backend', 'outcome', 'era'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.denials = new Counter({ name: 'mcp_gateway_denials_total', help: 'Requests refused by authentication, sessions, argument checks or policy, by gateway error code', labelNames: ['reason_code', 'virtual_server'], registers });
    this.resumes = new Counter({ name: 'mcp_gateway_stream_resumes_total', help: 'GET requests with Last-Event-ID: replayed, or answered with a fresh stream', labelNames: ['result'], registers });
    this.exchanges = new Counter({
      name: 'mcp_gateway_token_exchanges_total',
      help: "Tokens asked for on a caller's behalf (RFC 8693), by backend: exchanged, served from the cache, refused by the identity provider, or unavailable",
      labelNames: ['backend', 'outcome'],
      registers,
    });
    this.auditDrops = new Counter({ name: 'mcp_gateway_audit_dropped_total', help: 'Audit events dropped because the sink could not keep up', registers });
    new Gauge({
      name: 'mcp_gateway_active_sessions',
      help: 'Live MCP sessions in the session store (NaN when the store did not answer in time)',
      registers,
      async collect() {
        this.set(await withTimeout(sources.sessions(), SESSIONS_TIMEOUT_MS).catch(() => Number.NaN));
      },
    });
    new Gauge({
      name: 'mcp_gateway_catalog_tools',
      help: 'Tools in the current catalog snapshot',
      registers,
      collect() {
        this.set(sources.catalog().tools);
      },
    });
    new Gauge({
      name: 'mcp_gateway_catalog_age_seconds',
      help: 'Seconds since the catalog source last confirmed its view (Consul), or since the catalog was last rebuilt',
      registers,
      collect() {
        this.set(sources.catalog().ageSeconds);
      },
    });
    new Gauge({
      name: 'mcp_gateway_catalog_stale',
      help: '1 while the catalog source cannot be reached and the last known catalog is served',
      registers,
      collect() {
        this.set(sources.catalog().stale ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mcp_gateway_health_check_ok',
      help: 'Readiness checks as /readyz reports them: 1 while the dependency is fine; critical="true" ones make the gateway not ready',
      labelNames: ['check', 'critical'],
      registers,
      collect() {
        this.reset();
        const report = sources.health?.();
        if (!report) return;
        for (const [check, r] of Object.entries(report.checks)) this.set({ check, critical: String(r.critical) }, r.ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mcp_gateway_upstream_instance_cooling',
      help: '1 while a backend instance is in its failure cooldown (tried only after healthy ones: the circuit is open)',
      labelNames: ['backend', 'instance'],
      registers,
      collect() {
        // Rebuilt on each scrape so instances that left the catalog disappear.
        this.reset();
        for (const i of sources.instances()) this.set({ backend: i.backend, instance: i.instance }, i.cooling ? 1 : 0);
      },
    });
    new Gauge({
      name: 'mcp_gateway_backend_era',
      help: 'The MCP era a native backend speaks (1 for its era): session (initialize, Mcp-Session-Id) or stateless (2026-07-28)',
      labelNames: ['backend', 'era'],
      registers,
      collect() {
        this.reset();
        for (const [backend, era] of sources.eras()) this.set({ backend, era }, 1);
      },
    });
    this.pinGauges(sources, registers);
    this.capGauges(sources, registers);
  }

  /** Capped backends (`maxConcurrentCalls`): how full each cap is, to alert on before calls are refused. */
  private capGauges(sources: MetricsSources, registers: Registry[]): void {
    const capped = sources.capped?.bind(sources);
    if (!capped) return;
    const gauge = (name: string, help: string, value: (c: { open: number; max: number }) => number): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['backend'],
        registers,
        collect() {
          // Rebuilt on each scrape so a backend that left the catalog or lost its cap disappears.
          this.reset();
          for (const c of capped()) this.set({ backend: c.backend }, value(c));
        },
      });
    gauge('mcp_gateway_backend_open_calls', 'Calls open now on this process to a backend with maxConcurrentCalls (past the cap, calls get GW_UPSTREAM_BUSY)', (c) => c.open);
    gauge('mcp_gateway_backend_max_concurrent_calls', "A backend's maxConcurrentCalls: the calls this process keeps open to it at most", (c) => c.max);
  }

  /** Where pinning is on: drifted and unapproved definitions per backend, counted at scrape time. */
  private pinGauges(sources: MetricsSources, registers: Registry[]): void {
    const findings = sources.pinFindings?.bind(sources);
    if (!findings) return;
    const gauge = (name: string, help: string, status: 'new' | 'drifted'): void =>
      void new Gauge({
        name,
        help,
        labelNames: ['backend', 'kind'],
        registers,
        collect() {
          // Rebuilt on each scrape so a resolved backend goes back to 0 and one that left disappears.
          this.reset();
          const counts = new Map<string, { backend: string; kind: string; n: number }>();
          for (const f of findings()) {
            const k = `${f.backend}\0${f.kind}`;
            const c = counts.get(k) ?? { backend: f.backend, kind: f.kind, n: 0 };
            if (f.status === status) c.n++;
            counts.set(k, c);
          }
          for (const c of counts.values()) this.set({ backend: c.backend, kind: c.kind }, c.n);
        },
      });
    gauge('mcp_gateway_pinned_drifted', 'Tools (kind="tool") and prompts whose backend serves a definition other than the approved one', 'drifted');
    gauge('mcp_gateway_pinned_unapproved', 'New tools and prompts hidden until an operator approves them (manual mode)', 'new');
  }

  /** A `Last-Event-ID` the gateway replayed from, or could not (a fresh stream). */
  streamResumed(result: 'replayed' | 'fresh'): void {
    this.resumes.inc({ result });
  }

  /**
   * A tools/call that ran, with its outcome and duration. `virtualServer`: the endpoint's name,
   * `default` for `/mcp` (the name that configures it); `era`: the client's protocol era.
   */
  call(tool: string, backend: string, outcome: CallOutcome, seconds: number, era: Era, virtualServer = DEFAULT_SERVER): void {
    this.toolCalls.inc({ tool, backend, outcome, virtual_server: virtualServer, era });
    this.duration.observe({ backend, outcome, era }, seconds);
  }

  /** A routed request (resources/read, prompts/get, completion/complete, subscriptions) that ran. */
  request(method: string, backend: string, outcome: CallOutcome, era: Era, virtualServer = DEFAULT_SERVER): void {
    this.requests.inc({ method, backend, outcome, virtual_server: virtualServer, era });
  }

  /** A token asked for on a caller's behalf, and where it came from (docs/token-exchange.md). */
  tokenExchange(backend: string, outcome: 'exchanged' | 'cached' | 'refused' | 'unavailable'): void {
    this.exchanges.inc({ backend, outcome });
  }

  denied(code: string, virtualServer = DEFAULT_SERVER): void {
    this.denials.inc({ reason_code: code, virtual_server: virtualServer });
  }

  auditDropped(): void {
    this.auditDrops.inc();
  }

  /** The text exposition format and its content type, for a `/metrics` endpoint. */
  async scrape(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error('timeout')), ms);
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
