/**
 * envoy/envoy.yaml is a template as well as a working local configuration: its ports carry
 * `# PORT:<name>` tags so every runner (tests, `npm run topology`, docker-compose) uses the one
 * file with its own ports and hosts, instead of keeping copies that drift apart.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';

/** envoy/envoy.yaml of this checkout, found from this module whether it runs from source or from dist/. */
export function envoyTemplatePath(): string {
  for (let dir = dirname(fileURLToPath(import.meta.url)); ; dir = dirname(dir)) {
    const candidate = join(dir, 'envoy', 'envoy.yaml');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) throw new Error(`envoy/envoy.yaml not found above ${fileURLToPath(import.meta.url)}`);
  }
}

/** The template's text. */
export function readEnvoyTemplate(): string {
  return readFileSync(envoyTemplatePath(), 'utf8');
}

/** The tagged ports of envoy/envoy.yaml. */
export type EnvoyPortName = 'admin' | 'listener' | 'extproc' | 'broker' | 'xds';

/** Values for tagged ports; a string allows placeholders such as the test harness's `{{ADMIN_PORT}}`. */
export type EnvoyPorts = Partial<Record<EnvoyPortName, number | string>>;

export interface EnvoyRenderOptions {
  /**
   * Where the gateway process runs (its `extproc`, `broker` and `xds` clusters). A DNS name, such
   * as a docker-compose service, turns those clusters into STRICT_DNS so Envoy resolves it (and
   * follows replicas of the service).
   */
  readonly host?: string;
  /** The address Envoy's MCP listener binds to: `0.0.0.0` in a container, so a published port reaches it. */
  readonly listenAddress?: string;
}

/** The static clusters that point at the gateway process. */
const GATEWAY_CLUSTERS = new Set(['extproc', 'broker', 'xds']);

const PORT_TAG = /port_value: \d+ \} # PORT:(\w+)/g;

/**
 * The template with the given tagged ports replaced; tags without a value (or unknown ones) keep
 * the template's port. With `opts`, the gateway clusters' host and the listener address too.
 */
export function renderEnvoyConfig(template: string, ports: EnvoyPorts, opts: EnvoyRenderOptions = {}): string {
  const text = template.replace(PORT_TAG, (match, name: string) => {
    const port = ports[name as EnvoyPortName];
    return port === undefined ? match : `port_value: ${port} } # PORT:${name}`;
  });
  if (opts.host === undefined && opts.listenAddress === undefined) return text;
  // Hosts and cluster types are not tagged: change them in the document, which keeps comments.
  const doc = parseDocument(text);
  if (opts.host !== undefined) {
    for (const cluster of items(doc.getIn(['static_resources', 'clusters']))) {
      if (!GATEWAY_CLUSTERS.has(String(cluster.get('name')))) continue;
      if (isIP(opts.host) === 0) {
        cluster.set('type', 'STRICT_DNS');
        // Container networks answer A records; do not wait for AAAA first.
        cluster.set('dns_lookup_family', 'V4_PREFERRED');
      }
      for (const group of items(cluster.getIn(['load_assignment', 'endpoints']))) {
        for (const lb of items(group.get('lb_endpoints'))) lb.setIn(['endpoint', 'address', 'socket_address', 'address'], opts.host);
      }
    }
  }
  if (opts.listenAddress !== undefined) {
    for (const listener of items(doc.getIn(['static_resources', 'listeners']))) {
      listener.setIn(['address', 'socket_address', 'address'], opts.listenAddress);
    }
  }
  return doc.toString({ lineWidth: 0 });
}

/** The maps of a YAML sequence node (nothing when the node is missing). */
function items(node: unknown): YAMLMap[] {
  return isSeq(node) ? node.items.filter(isMap) : [];
}
