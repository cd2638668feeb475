/** The envoy/envoy.yaml renderer (tagged ports, gateway hosts for containers, still valid YAML), and settings of the file that must agree. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { renderEnvoyConfig } from '../../examples/envoy-config.js';

const TEMPLATE = readFileSync(new URL('../../envoy/envoy.yaml', import.meta.url), 'utf8');

/** The socket address of the static cluster `name`. */
function clusterAddress(config: any, name: string): { address: string; port_value: number | string } {
  const cluster = config.static_resources.clusters.find((c: { name: string }) => c.name === name);
  return cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
}

describe('renderEnvoyConfig', () => {
  it('replaces the tagged ports it is given and keeps the tags', () => {
    const out = renderEnvoyConfig(TEMPLATE, { admin: '{{ADMIN_PORT}}', listener: 20000, extproc: 20001, broker: 20002, xds: 20003 });
    expect(out).toContain('port_value: {{ADMIN_PORT}} } # PORT:admin');
    const config = parse(out.replace('{{ADMIN_PORT}}', '1'));
    expect(config.static_resources.listeners[0].address.socket_address).toEqual({ address: '127.0.0.1', port_value: 20000 });
    expect(clusterAddress(config, 'extproc')).toEqual({ address: '127.0.0.1', port_value: 20001 });
    expect(clusterAddress(config, 'broker')).toEqual({ address: '127.0.0.1', port_value: 20002 });
    expect(clusterAddress(config, 'xds')).toEqual({ address: '127.0.0.1', port_value: 20003 });
  });

  it('leaves tags without a value and unknown tags alone', () => {
    const template = `a: { port_value: 1 } # PORT:broker\nb: { port_value: 2 } # PORT:mystery\nc: { port_value: 3 } # PORT:xds\n`;
    expect(renderEnvoyConfig(template, { xds: 9 })).toBe(`a: { port_value: 1 } # PORT:broker\nb: { port_value: 2 } # PORT:mystery\nc: { port_value: 9 } # PORT:xds\n`);
    expect(renderEnvoyConfig(TEMPLATE, {})).toBe(TEMPLATE);
  });

  it('points the gateway clusters at a DNS name as STRICT_DNS, and binds the listener where asked', () => {
    const config = parse(renderEnvoyConfig(TEMPLATE, { broker: 8080 }, { host: 'gateway', listenAddress: '0.0.0.0' }));
    for (const name of ['extproc', 'broker', 'xds']) {
      const cluster = config.static_resources.clusters.find((c: { name: string }) => c.name === name);
      expect(cluster.type).toBe('STRICT_DNS');
      expect(clusterAddress(config, name).address).toBe('gateway');
    }
    expect(config.static_resources.listeners[0].address.socket_address.address).toBe('0.0.0.0');
    // The admin interface stays on loopback inside the container.
    expect(config.admin.address.socket_address.address).toBe('127.0.0.1');
  });

  it('keeps the clusters STATIC for an IP address, and keeps the comments', () => {
    const out = renderEnvoyConfig(TEMPLATE, { xds: 9100 }, { host: '10.1.2.3' });
    const config = parse(out);
    expect(config.static_resources.clusters.find((c: { name: string }) => c.name === 'xds').type).toBe('STATIC');
    expect(clusterAddress(config, 'xds')).toEqual({ address: '10.1.2.3', port_value: 9100 });
    expect(out).toContain('# PORT:xds');
    expect(out).toContain('failure_mode_allow: false');
  });
});

describe('envoy/envoy.yaml', () => {
  it('checks broker replicas with the timing of the ext_proc replicas\' checks (Envoy reads no YAML merge keys to share it), each on what its replica answers', () => {
    const clusters = parse(TEMPLATE).static_resources.clusters as { name: string; health_checks: Record<string, unknown>[] }[];
    const [extproc, broker] = ['extproc', 'broker'].map((name) => clusters.find((c) => c.name === name)!.health_checks);
    const timing = ({ grpc_health_check: _g, http_health_check: _h, ...rest }: Record<string, unknown>) => rest;
    expect(broker!.map(timing)).toEqual(extproc!.map(timing));
    expect(extproc![0]!.grpc_health_check).toEqual({ service_name: 'envoy.service.ext_proc.v3.ExternalProcessor' });
    expect(broker![0]!.http_health_check).toEqual({ path: '/livez' });
  });
});
