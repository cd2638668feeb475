/**
 * The Istio example (deploy/istio): the EnvoyFilter's patches are the filters envoy/envoy.yaml
 * runs, its names agree with the chart's Service, and the patches, put into an Envoy bootstrap
 * shaped like an Istio ingress gateway's, are accepted and run by the real Envoy in front of the
 * chart's gateway command. No Istio control plane runs here: the bootstrap's routes are what
 * istiod would make of gateway.yaml, written by hand, so how istiod applies the EnvoyFilter (its
 * match on the listener and virtual host names) is not checked (docs/kubernetes.md#istio).
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { readEnvoyTemplate } from '../../examples/envoy-config.js';
import { ADMIN_PORT_PLACEHOLDER, startEnvoy, validateEnvoyConfig, type EnvoyHandle } from '../harness/envoy.js';
import { envoyStat } from '../harness/topology-envoy.js';
import { freePorts } from '../harness/ports.js';
import type { ProcessHandle } from '../harness/process.js';
import { MCP_HEADERS, rawHttp } from '../support/gateway.js';
import { ISTIO_DIR, renderChart, startRenderedGateway, type Rendered } from '../support/helm-chart.js';

const INITIALIZE = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'istio-test', version: '1' } } });

function docs(file: string): any[] {
  return parseAllDocuments(readFileSync(join(ISTIO_DIR, file), 'utf8')).map((d) => d.toJS());
}

const envoyFilter = docs('envoyfilter.yaml')[0];
const istio = docs('gateway.yaml');
const gatewayResource = istio.find((d) => d.kind === 'Gateway');
const virtualService = istio.find((d) => d.kind === 'VirtualService');
const filterPatches: any[] = envoyFilter.spec.configPatches.filter((p: any) => p.applyTo === 'HTTP_FILTER').map((p: any) => p.patch.value);
const vhostPatch = envoyFilter.spec.configPatches.find((p: any) => p.applyTo === 'VIRTUAL_HOST');
const projectFilters: any[] = parse(readEnvoyTemplate()).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.http_filters;

/** Istio's name for the cluster of a Service port. */
const istioCluster = (host: string, port: number): string => `outbound|${port}||${host}`;

/** The chart as the example installs it: release mcp-gateway in namespace mcp, with values-istio.yaml. */
function renderForIstio(values: Record<string, unknown> = {}): Promise<Rendered> {
  return renderChart({ release: 'mcp-gateway', namespace: 'mcp', valueFiles: [join(ISTIO_DIR, 'values-istio.yaml')], values });
}

describe('the Istio example', () => {
  it('adds the filters envoy/envoy.yaml runs before its router, with the same ext_proc settings', () => {
    const byName = (name: string): any => projectFilters.find((f) => f.name === name);
    expect(filterPatches.map((f) => f.name)).toEqual(['mcp.strip_internal', 'envoy.filters.http.ext_proc', 'envoy.filters.http.stateful_session']);
    // Istio's ingress runs ext_proc lock-step (BUFFERED): envoy.yaml's pipelined mode needs its
    // mcp.whole_body and mcp.failed_answers filters and its backend routes' answer headers, which
    // this example does not add. So it adds no x-mcp-gateway-extproc-pipelined header, and
    // ext_proc answers each phase as it comes (a session-era call's response headers included).
    const [removeClientCopies, pipelinedMarker] = byName('mcp.strip_internal').typed_config.mutations.request_mutations;
    expect(pipelinedMarker.append.header.key).toBe('x-mcp-gateway-extproc-pipelined');
    expect(filterPatches[0]).toEqual({ ...byName('mcp.strip_internal'), typed_config: { ...byName('mcp.strip_internal').typed_config, mutations: { request_mutations: [removeClientCopies] } } });
    expect(filterPatches[2]).toEqual(byName('envoy.filters.http.stateful_session'));
    const { grpc_service: ours, processing_mode: lockStep, ...settings } = filterPatches[1].typed_config;
    const { grpc_service: theirs, processing_mode: pipelined, send_body_without_waiting_for_header_response: unwaited, request_attributes: attributes, metadata_options: metadata, ...projectSettings } = byName('envoy.filters.http.ext_proc').typed_config;
    expect(unwaited).toBe(true);
    // The metadata a pipelined routed call leaves for envoy.yaml's backend routes to copy onto its
    // answer; lock-step, ext_proc sets those answer headers itself in the response phase.
    expect(metadata).toEqual({ receiving_namespaces: { untyped: ['mcp.gateway'] } });
    expect(settings).toEqual({ ...projectSettings, request_attributes: attributes });
    // Lock-step, the response phase a session-era call needs is asked per request (mode_override),
    // and that phase keeps the stream until the exchange ends; pipelined, the trailers mode does.
    expect(lockStep).toEqual({ ...pipelined, request_body_mode: 'BUFFERED', response_trailer_mode: 'SKIP' });
    expect(ours.timeout).toBe(theirs.timeout);
    expect(ours.retry_policy).toEqual(theirs.retry_policy);
    // Off on the listener, on for the MCP host only.
    expect(filterPatches[1].disabled).toBe(true);
    expect(vhostPatch.patch.value.typed_per_filter_config['envoy.filters.http.ext_proc']['@type']).toMatch(/ExtProcPerRoute$/);
  });

  it("keeps the gateway's own request headers from a native backend, as envoy/envoy.yaml's backend routes do", () => {
    const projectRoutes: any[] = parse(readEnvoyTemplate()).static_resources.listeners[0].filter_chains[0].filters[0].typed_config.route_config.virtual_hosts[0].routes;
    const toBackends = projectRoutes.filter((r) => r.match.headers?.some((h: any) => h.string_match?.prefix === 'mcp_backend.'));
    expect(toBackends.length).toBeGreaterThan(0);
    const removes = toBackends[0].request_headers_to_remove as string[];
    for (const r of toBackends) expect(r.request_headers_to_remove).toEqual(removes);
    const backendRoutes = virtualService.spec.http.filter((h: any) => h.match[0].headers?.['x-mcp-gateway-route']?.exact?.startsWith('mcp_backend.'));
    expect(backendRoutes.length).toBeGreaterThan(0);
    for (const h of backendRoutes) expect(h.headers.request.remove).toEqual(removes);
  });

  it('names the ext_proc and broker ports of the chart\'s Service, and the host the gateway admits', async () => {
    const r = await renderForIstio();
    const service = r.one('Service', 'mcp-gateway');
    const fqdn = `${service.metadata.name}.mcp.svc.cluster.local`;
    const port = (name: string): number => service.spec.ports.find((p: any) => p.name === name).port;
    expect(filterPatches[1].typed_config.grpc_service.envoy_grpc).toEqual({ cluster_name: istioCluster(fqdn, port('grpc-extproc')), authority: fqdn });
    const brokerRoutes = virtualService.spec.http.filter((h: any) => h.name === 'mcp-broker' || h.name === 'mcp-admission');
    expect(brokerRoutes).toHaveLength(2);
    for (const route of brokerRoutes) expect(route.route[0].destination).toEqual({ host: fqdn, port: { number: port('http-broker') } });
    const server = gatewayResource.spec.servers[0];
    expect(virtualService.spec.hosts).toEqual(server.hosts);
    expect(vhostPatch.match.routeConfiguration).toEqual({ portNumber: server.port.number, vhost: { name: `${server.hosts[0]}:${server.port.number}` } });
    expect(parse(r.gatewayYaml).server.allowedHosts).toEqual(server.hosts);
  });
});

/** What istiod would make of one VirtualService http route (written by hand: no istiod here). */
function envoyRoute(http: any): any {
  const match = http.match[0];
  const headers = [
    ...Object.entries(match.headers ?? {}).map(([name, m]: [string, any]) => ({ name, string_match: { exact: m.exact } })),
    ...Object.keys(match.withoutHeaders ?? {}).map((name) => ({ name, present_match: true, invert_match: true })),
  ];
  const { host, port } = http.route[0].destination;
  const removes = http.headers?.request?.remove as string[] | undefined;
  return { name: http.name, match: { prefix: match.uri.prefix, headers }, route: { cluster: istioCluster(host, port.number), timeout: '0s' }, ...(removes ? { request_headers_to_remove: removes } : {}) };
}

function staticCluster(name: string, port: number, http2 = false): any {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    ...(http2 ? { typed_extension_protocol_options: { 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': { '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions', explicit_http_config: { http2_protocol_options: {} } } } } : {}),
    load_assignment: { cluster_name: name, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }] }] },
  };
}

/**
 * An ingress gateway's listener as Istio builds it for gateway.yaml, with the EnvoyFilter's patches
 * applied: the MCP host's routes and the per-host switch, another host beside it, and the clusters
 * the routes and ext_proc name, pointed at the processes of this test.
 */
function ingressBootstrap(opts: { listenerPort: number; extprocPort: number; brokerPort: number; otherPort: number; deadPort: number }): string {
  const server = gatewayResource.spec.servers[0];
  const clusters = new Map<string, any>();
  const extprocCluster = filterPatches[1].typed_config.grpc_service.envoy_grpc.cluster_name as string;
  clusters.set(extprocCluster, staticCluster(extprocCluster, opts.extprocPort, true));
  const routes = virtualService.spec.http.map(envoyRoute);
  for (const route of routes) {
    const name = route.route.cluster as string;
    // The broker is the chart's; the native backend of the example does not run here.
    if (!clusters.has(name)) clusters.set(name, staticCluster(name, name.includes('mcp-gateway') ? opts.brokerPort : opts.deadPort));
  }
  clusters.set('other', staticCluster('other', opts.otherPort));
  const hcm = {
    '@type': 'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
    stat_prefix: 'ingress',
    use_remote_address: true,
    route_config: {
      virtual_hosts: [
        { name: `${server.hosts[0]}:${server.port.number}`, domains: [server.hosts[0], `${server.hosts[0]}:*`], routes, ...vhostPatch.patch.value },
        { name: 'other:80', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'other' } }] },
      ],
    },
    http_filters: [...filterPatches, { name: 'envoy.filters.http.router', typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' } }],
  };
  return stringify({
    admin: { address: { socket_address: { address: '127.0.0.1', port_value: ADMIN_PORT_PLACEHOLDER } } },
    static_resources: {
      listeners: [{ name: 'http.8080', address: { socket_address: { address: '127.0.0.1', port_value: opts.listenerPort } }, filter_chains: [{ filters: [{ name: 'envoy.filters.network.http_connection_manager', typed_config: hcm }] }] }],
      clusters: [...clusters.values()],
    },
  }).replace(`'${ADMIN_PORT_PLACEHOLDER}'`, ADMIN_PORT_PLACEHOLDER);
}

describe('the EnvoyFilter in an ingress gateway\'s configuration, run by the real Envoy in front of the chart\'s gateway', () => {
  let gateway: ProcessHandle | undefined;
  let envoy: EnvoyHandle | undefined;
  let other: Server;
  const seenByOther: { headers: IncomingHttpHeaders; body: string }[] = [];
  let url: string;

  beforeAll(async () => {
    other = createServer((req, res) => {
      let body = '';
      req.on('data', (c) => (body += c));
      req.on('end', () => {
        seenByOther.push({ headers: req.headers, body });
        res.end('other service');
      });
    });
    await new Promise<void>((resolve) => other.listen(0, '127.0.0.1', resolve));
    const [listenerPort, broker, extproc, xds, admin, deadPort] = await freePorts(6);
    const r = await renderForIstio({ replicaCount: 1, hazelcast: { enabled: false }, ports: { broker, extproc, xds, admin } });
    gateway = await startRenderedGateway(r);
    const bootstrap = ingressBootstrap({ listenerPort: listenerPort!, extprocPort: extproc!, brokerPort: broker!, otherPort: (other.address() as AddressInfo).port, deadPort: deadPort! });
    const { ok, output } = await validateEnvoyConfig(bootstrap.split(ADMIN_PORT_PLACEHOLDER).join('9901'));
    expect(ok, output).toBe(true);
    envoy = await startEnvoy({ configYaml: bootstrap });
    url = `http://127.0.0.1:${listenerPort}/mcp`;
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    await gateway?.stop();
    await new Promise((resolve) => other?.close(resolve));
  });

  /** ext_proc streams Envoy opened: one per request the filter ran on. */
  const extprocStreams = (): Promise<number> => envoyStat(envoy!.adminUrl, 'http.ingress.ext_proc.streams_started');

  it('admits /mcp of the MCP host through ext_proc and routes it to the broker, whatever route header the client sent', async () => {
    const before = await extprocStreams();
    const res = await rawHttp(url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'mcp.example.com', 'x-mcp-gateway-route': 'mcp_backend.notes' }, body: INITIALIZE });
    expect(res.status, res.text).toBe(200);
    expect(res.headers['mcp-session-id']).toMatch(/\S{20,}/);
    expect(res.text).toContain('"protocolVersion":"2025-11-25"');
    // Refused by ext_proc itself: the session is unknown.
    const unknown = await rawHttp(url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'mcp.example.com', 'mcp-session-id': 'nope' }, body: JSON.stringify({ jsonrpc: '2.0', id: 2, method: 'tools/list' }) });
    expect(unknown.status).toBe(404);
    expect(await extprocStreams()).toBe(before + 2);
  });

  it('leaves the other hosts of the ingress gateway alone: no ext_proc, only the gateway\'s internal headers removed', async () => {
    seenByOther.length = 0;
    const before = await extprocStreams();
    const res = await rawHttp(url, { method: 'POST', headers: { ...MCP_HEADERS, host: 'shop.example.com', 'x-mcp-gateway-principal': 'forged' }, body: INITIALIZE });
    expect(res.status).toBe(200);
    expect(res.text).toBe('other service');
    expect(seenByOther).toHaveLength(1);
    expect(seenByOther[0]!.body).toBe(INITIALIZE);
    expect(Object.keys(seenByOther[0]!.headers).filter((h) => h.startsWith('x-mcp-gateway-'))).toEqual([]);
    expect(await extprocStreams()).toBe(before);
  });
});
