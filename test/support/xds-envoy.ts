/**
 * An Envoy bootstrap that learns its clusters from the gateway's ADS server (src/xds), and
 * readers for what Envoy then knows, through its admin API. The `dynamic_resources` block and the
 * `xds` cluster are the ones documented in envoy/xds-bootstrap.md for envoy/envoy.yaml.
 */
import { ADMIN_PORT_PLACEHOLDER, httpListener } from '../harness/envoy.js';

/** The two bootstrap additions, indented for the top level and for `static_resources.clusters`. */
export function xdsBootstrapParts(xdsPort: number): { dynamicResources: string; xdsCluster: string } {
  const dynamicResources = `dynamic_resources:
  ads_config:
    api_type: GRPC
    transport_api_version: V3
    grpc_services:
      - envoy_grpc: { cluster_name: xds }
    set_node_on_first_message_only: true
  cds_config:
    ads: {}
    resource_api_version: V3
`;
  const xdsCluster = `    - name: xds
      type: STATIC
      connect_timeout: 1s
      # Notice a management server that vanished without closing the connection, and reconnect.
      upstream_connection_options: { tcp_keepalive: {} }
      typed_extension_protocol_options:
        envoy.extensions.upstreams.http.v3.HttpProtocolOptions:
          "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions
          explicit_http_config:
            http2_protocol_options: {}
      load_assignment:
        cluster_name: xds
        endpoints:
          - lb_endpoints:
              - endpoint:
                  address:
                    socket_address: { address: 127.0.0.1, port_value: ${xdsPort} }
`;
  return { dynamicResources, xdsCluster };
}

/**
 * A whole bootstrap for tests: ADS as above, and one listener that routes by the
 * `x-mcp-gateway-route` header (as envoy/envoy.yaml does), so a request can name an xDS cluster.
 */
export function xdsBootstrap(opts: { xdsPort: number; listenerPort: number; nodeId?: string }): string {
  const { dynamicResources, xdsCluster } = xdsBootstrapParts(opts.xdsPort);
  return `node: { id: ${opts.nodeId ?? 'mcp-gateway-test'}, cluster: mcp-gateway }
admin:
  address:
    socket_address: { address: 127.0.0.1, port_value: ${ADMIN_PORT_PLACEHOLDER} }
${dynamicResources}static_resources:
  listeners:
${httpListener({ port: opts.listenerPort, routes: ['{ match: { prefix: "/", headers: [{ name: x-mcp-gateway-route, present_match: true }] }, route: { cluster_header: x-mcp-gateway-route, timeout: 0s } }'] })}  clusters:
${xdsCluster}`;
}

/** One upstream host as Envoy's `/clusters?format=json` shows it. */
export interface EnvoyHost {
  readonly address: string;
  /** Envoy's health flags for the host, e.g. `failed_outlier_check` while ejected. */
  readonly ejected: boolean;
}

/** The dynamic clusters Envoy holds, each with its hosts (`address:port`), sorted. */
export async function envoyClusters(adminUrl: string): Promise<Map<string, EnvoyHost[]>> {
  const res = await fetch(`${adminUrl}/clusters?format=json`);
  const body = (await res.json()) as { cluster_statuses?: any[] };
  const out = new Map<string, EnvoyHost[]>();
  for (const c of body.cluster_statuses ?? []) {
    if (!c.added_via_api) continue;
    const hosts: EnvoyHost[] = (c.host_statuses ?? []).map((h: any) => ({
      address: `${h.address.socket_address.address}:${h.address.socket_address.port_value}`,
      ejected: h.health_status?.failed_outlier_check === true,
    }));
    out.set(c.name, hosts.sort((a, b) => (a.address < b.address ? -1 : 1)));
  }
  return out;
}

/** The `address:port` list of one cluster, or undefined while Envoy does not have the cluster. */
export async function envoyEndpoints(adminUrl: string, cluster: string): Promise<string[] | undefined> {
  return (await envoyClusters(adminUrl)).get(cluster)?.map((h) => h.address);
}
