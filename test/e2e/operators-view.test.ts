import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { deadUrl } from '../support/http-backends.js';
import { ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';

const file = (p: string): string => readFileSync(fileURLToPath(new URL(`../../${p}`, import.meta.url)), 'utf8');
const RULES = 'deploy/prometheus/mcp-gateway-rules.yaml';
const DASHBOARD = 'deploy/grafana/mcp-gateway-dashboard.json';

/** Metrics Prometheus itself adds to every scrape, and labels it attaches to every series. */
const PROMETHEUS_METRICS = new Set(['up']);
const TARGET_LABELS = new Set(['instance', 'job']);

/** PromQL functions, aggregations and keywords: the identifiers of an expression that are not metric names. */
const PROMQL_WORDS = new Set(
  'sum min max avg count stddev stdvar topk bottomk quantile count_values group rate irate increase delta idelta deriv histogram_quantile vector scalar abs absent absent_over_time clamp_min clamp_max ceil floor round time timestamp label_replace label_join sort sort_desc changes resets predict_linear avg_over_time min_over_time max_over_time sum_over_time count_over_time last_over_time and or unless by without on ignoring group_left group_right bool offset'.split(
    ' ',
  ),
);

interface Scraped {
  /** Every sample name the endpoint serves (a histogram's `_bucket`, `_sum`, `_count` included). */
  readonly names: ReadonlySet<string>;
  /** The label names seen on each sample name's series. */
  readonly labels: ReadonlyMap<string, ReadonlySet<string>>;
}

function scrape(text: string): Scraped {
  const names = new Set<string>();
  const labels = new Map<string, Set<string>>();
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\S+)/.exec(line);
    if (type) {
      const [, name, kind] = type as unknown as [string, string, string];
      for (const n of kind === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name]) names.add(n);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? /.exec(line);
    if (!sample) continue;
    const set = labels.get(sample[1]!) ?? new Set<string>();
    for (const m of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="/g)) set.add(m[1]!);
    labels.set(sample[1]!, set);
  }
  return { names, labels };
}

/** The metric names an expression reads, and the label names it matches on each. */
function metricsOf(expr: string): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  // Selectors with matchers first: `name{label="…", …}`.
  for (const m of expr.matchAll(/([a-zA-Z_:][a-zA-Z0-9_:]*)\s*\{([^}]*)\}/g)) {
    const set = out.get(m[1]!) ?? new Set<string>();
    for (const l of m[2]!.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)/g)) set.add(l[1]!);
    out.set(m[1]!, set);
  }
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings (label values, Grafana legends)
    .replace(/\{[^}]*\}/g, '') // matchers
    .replace(/\[[^\]]*\]/g, '') // ranges, $__rate_interval
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // grouping labels
    .replace(/\b\d+(?:\.\d+)?(?:e[+-]?\d+)?\b/gi, ''); // numbers, 1.5e9 included
  for (const [word] of bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)) {
    if (!PROMQL_WORDS.has(word) && !out.has(word)) out.set(word, new Set());
  }
  return out;
}

/** Every PromQL expression of the alert rules and of the dashboard's panels and variables, with where it is. */
function expressions(): Array<{ where: string; expr: string }> {
  const rules = parse(file(RULES)) as { groups: Array<{ rules: Array<{ alert: string; expr: string }> }> };
  const out = rules.groups.flatMap((g) => g.rules.map((r) => ({ where: `alert ${r.alert}`, expr: r.expr })));
  const dashboard = JSON.parse(file(DASHBOARD)) as { panels: Array<{ title: string; targets?: Array<{ expr: string }> }>; templating: { list: Array<{ name: string; query?: unknown }> } };
  for (const p of dashboard.panels) for (const t of p.targets ?? []) out.push({ where: `panel "${p.title}"`, expr: t.expr });
  for (const v of dashboard.templating.list) {
    const q = (v.query as { query?: string } | undefined)?.query;
    // label_values(metric, label): the metric must exist and carry the label.
    const lv = q ? /^label_values\((\w+),\s*(\w+)\)$/.exec(q) : null;
    if (lv) out.push({ where: `variable ${v.name}`, expr: `${lv[1]}{${lv[2]}=~".*"}` });
  }
  return out;
}

let gw: TestGateway;
let orders: OrdersApi;
let scraped: Scraped;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startGateway({
    backends: [
      // Capped, so the gauges of capped backends have a series too.
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS, maxConcurrentCalls: 100 },
      { name: 'dead', kind: 'rest', urls: [await deadUrl()], tools: [{ name: 'ping', inputSchema: { type: 'object' }, http: { method: 'GET', path: '/ping' } }] },
    ],
  });
  // Traffic, so labelled series exist: a call that works, one that fails, a denial.
  const { sessionId } = await rawInitialize(gw.url);
  await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_list_orders', arguments: {} } });
  await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'dead_ping', arguments: {} } });
  await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'nobody_has_this', arguments: {} } });
  scraped = scrape(await (await fetch(`${gw.adminUrl}/metrics`)).text());
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
});

describe("operators' view", () => {
  it('serves the Node.js process metrics beside the gateway ones, under the gateway prefix', () => {
    for (const name of ['mcp_gateway_process_cpu_seconds_total', 'mcp_gateway_process_resident_memory_bytes', 'mcp_gateway_nodejs_eventloop_lag_p99_seconds', 'mcp_gateway_nodejs_heap_size_used_bytes']) {
      expect(scraped.names, name).toContain(name);
    }
    expect(scraped.labels.get('mcp_gateway_health_check_ok')).toEqual(new Set(['check', 'critical']));
  });

  it('alert rules and dashboard read only metrics and labels a running gateway serves', () => {
    const exprs = expressions();
    expect(exprs.length).toBeGreaterThan(20);
    const problems: string[] = [];
    for (const { where, expr } of exprs) {
      for (const [metric, labels] of metricsOf(expr)) {
        if (PROMETHEUS_METRICS.has(metric)) continue;
        if (!scraped.names.has(metric)) {
          problems.push(`${where}: no metric ${metric}`);
          continue;
        }
        const seen = scraped.labels.get(metric);
        // A labelled metric without a sample yet (no traffic of its kind) shows no labels to check.
        if (!seen) continue;
        for (const l of labels) if (!seen.has(l) && !TARGET_LABELS.has(l)) problems.push(`${where}: ${metric} has no label ${l}`);
      }
    }
    expect(problems).toEqual([]);
  });

  it('the name check itself catches a metric that does not exist', () => {
    const names = [...metricsOf('sum by (backend) (rate(mcp_gateway_tool_calls_totals{outcome="ok"}[5m])) / 1.5e9')].map(([m]) => m);
    expect(names).toEqual(['mcp_gateway_tool_calls_totals']);
    expect(scraped.names.has(names[0]!)).toBe(false);
  });
});
