/**
 * docker-compose.yml cannot be run here (no Docker engine), so its structure is checked instead:
 * pinned images, files that exist, a gateway configuration that validates, and ports and host
 * names that agree between the services, the gateway's flags and envoy/envoy.yaml.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfigFile } from '../../src/config/load.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  image?: string;
  build?: string | { context: string; dockerfile?: string; target?: string };
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string> | string[];
  volumes?: string[];
  ports?: string[];
  depends_on?: string[] | Record<string, { condition?: string }>;
  healthcheck?: { test?: string[] | string; disable?: boolean };
  restart?: string;
}

const compose = parse(readFileSync(join(ROOT, 'docker-compose.yml'), 'utf8')) as { services: Record<string, Service>; volumes?: Record<string, unknown> };
const services = Object.entries(compose.services);

/** The value after `flag` in an argument list. */
function flag(args: readonly string[] | undefined, name: string): string | undefined {
  const i = args?.indexOf(name) ?? -1;
  return i >= 0 ? args![i + 1] : undefined;
}

function environment(service: Service): Record<string, string> {
  const env = service.environment ?? {};
  return Array.isArray(env) ? Object.fromEntries(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)])) : env;
}

/** Where a path in a container of the gateway image comes from: dist/x.js is built from x.ts. */
function repoSource(path: string): string {
  return path.startsWith('dist/') ? path.slice('dist/'.length).replace(/\.js$/, '.ts') : path;
}

/** `name:tag` with a full version in the tag, and nothing floating (`latest`, `v1.40-latest`). */
function pinned(image: string): boolean {
  const tag = /^[^@]+:([^:/@]+)$/.exec(image)?.[1];
  return tag !== undefined && !/latest/i.test(tag) && /\d+\.\d+\.\d+/.test(tag);
}

const gateway = compose.services.gateway!;
const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');

/** The Dockerfile's stages by name, each with its instructions (continuation lines joined). */
function stages(): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string[] = [];
  for (const line of dockerfile.replace(/\\\n\s*/g, ' ').split('\n')) {
    const from = /^FROM\s+\S+(?:\s+AS\s+(\S+))?/i.exec(line);
    if (from) out.set(from[1] ?? `stage${out.size}`, (current = []));
    if (/^[A-Z]+\s/.test(line)) current.push(line);
  }
  return out;
}

/** A built service's Dockerfile target (the last stage when none is named). */
function target(service: Service): string {
  const named = typeof service.build === 'object' ? service.build.target : undefined;
  return named ?? [...stages().keys()].at(-1)!;
}

/** One-shot jobs: services others wait on to have completed, not to be healthy. */
const jobs = new Set(
  services.flatMap(([, s]) => (Array.isArray(s.depends_on) ? [] : Object.entries(s.depends_on ?? {}).filter(([, d]) => d.condition === 'service_completed_successfully').map(([n]) => n))),
);

/** Whether a service has a health check: its own, or its image's HEALTHCHECK when built here. */
function healthChecked(service: Service): boolean {
  if (service.healthcheck && !service.healthcheck.disable) return true;
  return service.build !== undefined && (stages().get(target(service)) ?? []).some((i) => /^HEALTHCHECK\s.*\bCMD\b/.test(i));
}

/** The host port `npm start` serves on: examples/gateway.yaml's server.port default. */
function npmStartPort(): string {
  return /port: \$\{GATEWAY_PORT:-(\d+)\}/.exec(readFileSync(join(ROOT, 'examples/gateway.yaml'), 'utf8'))![1]!;
}
const gatewayConfigFile = flag(gateway.command, '--config')!;

describe('docker-compose.yml', () => {
  it('pins every pulled image and the Dockerfile base image to a version', () => {
    for (const [name, service] of services) {
      if (service.build !== undefined) expect(service.image, name).toMatch(/^mcp-gateway(-examples)?:local$/);
      else expect(pinned(service.image ?? ''), `${name}: ${service.image}`).toBe(true);
    }
    const from = dockerfile.match(/^FROM\s+(\S+)/gm) ?? [];
    expect(from.length).toBeGreaterThan(0);
    // A stage built on an earlier stage names it, not an image.
    for (const line of from) if (!stages().has(line.split(/\s+/)[1]!)) expect(pinned(line.split(/\s+/)[1]!), line).toBe(true);
  });

  it('mounts and runs only files that exist in the repository', () => {
    for (const [name, service] of services) {
      if (service.build !== undefined) {
        const context = typeof service.build === 'string' ? service.build : service.build.context;
        expect(existsSync(join(ROOT, context, 'Dockerfile')), `${name}: build context`).toBe(true);
      }
      for (const volume of service.volumes ?? []) {
        const [source] = volume.split(':');
        if (source!.startsWith('.') || source!.startsWith('/')) expect(existsSync(join(ROOT, source!)), `${name}: ${volume}`).toBe(true);
        else expect(compose.volumes, `${name}: named volume ${source}`).toHaveProperty(source!);
      }
      // Relative file arguments run in the gateway image, whose working directory is the repository.
      for (const arg of [...(service.entrypoint ?? []), ...(service.command ?? [])]) {
        if (/^[\w.-]+\/[\w./-]+\.(ya?ml|json|js|rego)$/.test(arg)) expect(existsSync(join(ROOT, repoSource(arg))), `${name}: ${arg}`).toBe(true);
      }
    }
  });

  it("gives the gateway a configuration that validates with the service's environment, naming compose services", async () => {
    const config = await loadConfigFile(join(ROOT, gatewayConfigFile), environment(gateway));
    for (const file of [...(config.policy.engine === 'opa' ? [...config.policy.policyFiles, ...Object.values(config.policy.servicePolicies)] : [])]) {
      expect(existsSync(join(ROOT, file)), file).toBe(true);
    }
    expect(config.policy.engine).toBe('opa');
    expect(config.sessions.store).toBe('hazelcast');
    const hosts = [
      new URL(config.catalog.consul!.url).hostname,
      new URL(config.policy.engine === 'opa' ? config.policy.url : '').hostname,
      new URL(config.auth!.issuer).hostname,
      ...config.sessions.hazelcast.members.map((m) => m.split(':')[0]!),
    ];
    for (const host of hosts) expect(Object.keys(compose.services), host).toContain(host);
    expect(Object.keys(gateway.depends_on ?? {}), 'the gateway starts after what it uses').toEqual(expect.arrayContaining(hosts));
  });

  it("agrees with envoy/envoy.yaml's ports, and points Envoy and the backends at their services", () => {
    const template = readFileSync(join(ROOT, 'envoy/envoy.yaml'), 'utf8');
    const port = (name: string): string => new RegExp(`port_value: (\\d+) \\} # PORT:${name}`).exec(template)![1]!;
    // render-envoy is given no ports, so the gateway must listen on the template's.
    expect(flag(compose.services['envoy-config']!.command, '--host')).toBe('gateway');
    expect(flag(compose.services['envoy-config']!.command, '--broker-port')).toBeUndefined();
    for (const name of ['broker', 'extproc', 'xds']) expect(flag(gateway.command, `--${name}-port`), name).toBe(port(name));
    expect(compose.services.envoy!.ports).toEqual([`127.0.0.1:${port('listener')}:${port('listener')}`]);
    for (const [name, service] of services) {
      if (!service.entrypoint?.includes('dist/examples/backends/serve.js')) continue;
      expect(environment(service).ADVERTISE_ADDRESS, name).toBe(name);
      expect(environment(service).BACKEND, name).toBe(name);
    }
  });

  it('builds each service from a Dockerfile stage, the gateway from the production one', () => {
    for (const [name, service] of services) if (service.build !== undefined) expect([...stages().keys()], name).toContain(target(service));
    expect(target(gateway)).toBe([...stages().keys()].at(-1));
    expect(gateway.image).toBe('mcp-gateway:local');
  });

  it('gives every long-running service a health check and a restart policy, and jobs none to restart', () => {
    for (const [name, service] of services) {
      if (jobs.has(name)) {
        expect(service.restart ?? 'no', `${name} is a job`).toMatch(/^(no|on-failure)$/);
        continue;
      }
      expect(healthChecked(service), `${name}: health check`).toBe(true);
      expect(service.restart, `${name}: restart policy`).toMatch(/^(unless-stopped|always|on-failure)$/);
    }
  });

  it('starts each service after what it depends on is healthy (or, for a job, done)', () => {
    for (const [name, service] of services) {
      if (service.depends_on === undefined) continue;
      expect(Array.isArray(service.depends_on), `${name}: depends_on needs conditions, not a list`).toBe(false);
      for (const [dependency, { condition }] of Object.entries(service.depends_on as Record<string, { condition?: string }>)) {
        expect(Object.keys(compose.services), `${name} → ${dependency}`).toContain(dependency);
        expect(condition, `${name} → ${dependency}`).toBe(jobs.has(dependency) ? 'service_completed_successfully' : 'service_healthy');
      }
    }
  });

  it("publishes host ports only on loopback, none twice, and never npm start's", () => {
    const published = services.flatMap(([name, service]) => (service.ports ?? []).map((p) => ({ name, host: p.split(':').slice(0, -1) })));
    for (const { name, host } of published) expect(host[0], `${name} binds loopback`).toBe('127.0.0.1');
    const hostPorts = published.map(({ host }) => host[1]);
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
    expect(hostPorts).not.toContain(npmStartPort());
  });
});
