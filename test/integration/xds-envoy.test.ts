/**
 * The real Envoy learning clusters and endpoints from the gateway's ADS server, observed through
 * Envoy's admin API and through real requests to real node:http instances. First fed directly
 * with backend lists (as the YAML config gives them), then from a real Consul agent through the
 * gateway's catalog. How long each change took to reach Envoy is printed, never asserted.
 */
import { createServer } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import { parseConfig } from '../../src/config/load.js';
import { backendSchema } from '../../src/config/schema.js';
import { createGateway, type GatewayCore } from '../../src/gateway.js';
import { createLogger } from '../../src/telemetry/logger.js';
import { clusterTargets, resolveSnapshot } from '../../src/xds/clusters.js';
import { XdsFeed } from '../../src/xds/feed.js';
import { XdsServer } from '../../src/xds/server.js';
import { startConsul, type ConsulHandle } from '../harness/consul.js';
import { startEnvoy, validateEnvoyConfig, type EnvoyHandle } from '../harness/envoy.js';
import { freePort } from '../harness/ports.js';
import { register, setHealth } from '../support/consul-api.js';
import { waitFor } from '../support/wait.js';
import { envoyClusters, envoyEndpoints, xdsBootstrap } from '../support/xds-envoy.js';

/** A node:http instance that names itself in every answer; `status` makes it fail on demand. */
interface Instance {
  readonly name: string;
  readonly url: string;
  /** `127.0.0.1:<port>`, as Envoy lists the endpoint. */
  readonly endpoint: string;
  hits: number;
  status: number;
  close(): Promise<void>;
}

async function startInstance(name: string): Promise<Instance> {
  const server = createServer((req, res) => {
    instance.hits++;
    req.resume();
    res.writeHead(instance.status, { 'content-type': 'application/json' }).end(JSON.stringify({ instance: name }));
  });
  const url = await listen(server);
  const instance: Instance = { name, url, endpoint: url.replace('http://', ''), hits: 0, status: 200, close: () => closeServer(server) };
  return instance;
}

const logger = createLogger(process.env.TEST_LOG_LEVEL ?? 'silent');
const mcp = (name: string, instances: Instance[]): BackendDescriptor => backendSchema.parse({ name, kind: 'mcp', urls: instances.map((i) => `${i.url}/mcp`) });
const endpoints = (instances: Instance[]): string[] => instances.map((i) => i.endpoint).sort();

let xds: XdsServer;
let envoy: EnvoyHandle;
let config: string;
let listenerUrl: string;
let a: Instance, b: Instance, c: Instance, bad: Instance;

/** Serve these backends, as the feed would after a catalog change. */
async function serve(backends: BackendDescriptor[]): Promise<void> {
  xds.update(await resolveSnapshot(clusterTargets(backends), logger));
}

/** Wait until Envoy's cluster has exactly these endpoints; print how long that took. */
async function envoySees(cluster: string, expected: string[] | undefined, what: string, since = Date.now()): Promise<void> {
  await waitFor(async () => JSON.stringify(await envoyEndpoints(envoy.adminUrl, cluster)) === JSON.stringify(expected), what);
  console.info(`xds → Envoy: ${what} after ${Date.now() - since} ms`);
}

/** POST through Envoy's listener to the cluster named in the route header; the answering instance. */
async function call(cluster: string): Promise<{ status: number; instance?: string }> {
  const res = await fetch(`${listenerUrl}/mcp`, { method: 'POST', headers: { 'x-mcp-gateway-route': cluster, 'content-type': 'application/json' }, body: '{}' });
  const text = await res.text();
  return { status: res.status, instance: res.headers.get('content-type') === 'application/json' ? JSON.parse(text).instance : undefined };
}

beforeAll(async () => {
  [a, b, c, bad] = await Promise.all(['a', 'b', 'c', 'bad'].map(startInstance)) as [Instance, Instance, Instance, Instance];
  xds = new XdsServer({ logger });
  await serve([mcp('notes', [a, b])]);
  const listenerPort = await freePort();
  config = xdsBootstrap({ xdsPort: await xds.start(), listenerPort });
  listenerUrl = `http://127.0.0.1:${listenerPort}`;
  envoy = await startEnvoy({ configYaml: config });
});

afterAll(async () => {
  await envoy?.stop();
  await xds?.stop();
  await Promise.all([a, b, c, bad].map((i) => i?.close()));
});

describe('Envoy fed by the xDS server', () => {
  it('the bootstrap passes `envoy --mode validate`', async () => {
    const { ok, output } = await validateEnvoyConfig(config);
    expect(ok, output).toBe(true);
  });

  it('gets one cluster per native MCP backend with its endpoints, and accepts them', async () => {
    await envoySees('mcp_backend.notes', endpoints([a, b]), 'initial endpoints');
    expect(xds.nacks).toBe(0);
  });

  it('routes requests through the listener to the cluster, round robin over its instances', async () => {
    const answers = await Promise.all([1, 2, 3, 4].map(() => call('mcp_backend.notes')));
    expect(answers.every((r) => r.status === 200)).toBe(true);
    expect(new Set(answers.map((r) => r.instance))).toEqual(new Set(['a', 'b']));
  });

  it('follows an endpoint leaving and one joining, and stops sending to the one that left', async () => {
    let since = Date.now();
    await serve([mcp('notes', [a])]);
    await envoySees('mcp_backend.notes', endpoints([a]), 'endpoint removed', since);
    since = Date.now();
    await serve([mcp('notes', [a, c])]);
    await envoySees('mcp_backend.notes', endpoints([a, c]), 'endpoint added', since);
    const before = b.hits;
    const answers = await Promise.all([1, 2, 3, 4].map(() => call('mcp_backend.notes')));
    expect(new Set(answers.map((r) => r.instance))).toEqual(new Set(['a', 'c']));
    expect(b.hits).toBe(before);
  });

  it('adds a cluster for a new backend, routable at once, and removes it with the backend', async () => {
    const since = Date.now();
    await serve([mcp('notes', [a, c]), mcp('docs', [b])]);
    await envoySees('mcp_backend.docs', endpoints([b]), 'new cluster', since);
    expect(await call('mcp_backend.docs')).toEqual({ status: 200, instance: 'b' });
    await serve([mcp('notes', [a, c])]);
    await envoySees('mcp_backend.docs', undefined, 'cluster removed');
    expect(xds.nacks).toBe(0);
  });

  it('ejects an instance that keeps answering 5xx, and sends its calls to the healthy one', async () => {
    bad.status = 503;
    await serve([mcp('notes', [a, c]), mcp('flaky', [a, bad])]);
    await envoySees('mcp_backend.flaky', endpoints([a, bad]), 'flaky cluster');
    const ejected = async (): Promise<boolean> => (await envoyClusters(envoy.adminUrl)).get('mcp_backend.flaky')!.some((h) => h.address === bad.endpoint && h.ejected);
    await waitFor(async () => (await call('mcp_backend.flaky'), ejected()), 'the failing instance is ejected');
    const before = bad.hits;
    const answers = await Promise.all([1, 2, 3, 4, 5, 6].map(() => call('mcp_backend.flaky')));
    expect(answers).toEqual(Array(6).fill({ status: 200, instance: 'a' }));
    expect(bad.hits).toBe(before);
  });
});

describe('Envoy following Consul through the catalog', () => {
  let consul: ConsulHandle;
  let core: GatewayCore;
  let feed: XdsFeed;
  let t1: Instance, t2: Instance;
  const MCP_META = { 'mcp-enabled': 'true', 'mcp-kind': 'mcp' };

  beforeAll(async () => {
    consul = await startConsul();
    [t1, t2] = await Promise.all([startInstance('t1'), startInstance('t2')]);
    const config = parseConfig({ logging: { level: process.env.TEST_LOG_LEVEL ?? 'silent' }, audit: { sink: 'off' }, catalog: { consul: { url: consul.url, waitSeconds: 10, retryMaxMs: 500 } } });
    core = await createGateway(config, { logger });
    await core.start();
    feed = new XdsFeed({ catalog: core.catalog, server: xds, logger });
    await feed.start();
  });

  afterAll(async () => {
    feed?.stop();
    await core?.stop();
    await Promise.all([t1?.close(), t2?.close()]);
    await consul?.stop();
  });

  it('serves a registered MCP service as a cluster of its passing instances, and follows a health check', async () => {
    let since = Date.now();
    await register(consul.url, { id: 'tools-1', name: 'tools', url: t1.url, meta: MCP_META });
    await register(consul.url, { id: 'tools-2', name: 'tools', url: t2.url, meta: MCP_META });
    await envoySees('mcp_backend.tools', endpoints([t1, t2]), 'Consul service registered', since);
    // The configured-only clusters of the tests above are gone: the catalog is the source now.
    expect([...(await envoyClusters(envoy.adminUrl)).keys()]).toEqual(['mcp_backend.tools']);

    since = Date.now();
    await setHealth(consul.url, 'tools-2', 'critical');
    await envoySees('mcp_backend.tools', endpoints([t1]), 'Consul check critical', since);
    const answers = await Promise.all([1, 2, 3, 4].map(() => call('mcp_backend.tools')));
    expect(answers).toEqual(Array(4).fill({ status: 200, instance: 't1' }));

    since = Date.now();
    await setHealth(consul.url, 'tools-2', 'passing');
    await envoySees('mcp_backend.tools', endpoints([t1, t2]), 'Consul check passing again', since);
    expect(xds.nacks).toBe(0);
  });
});
