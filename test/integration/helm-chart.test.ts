/**
 * The Helm chart (deploy/helm/mcp-gateway), checked with real tools: helm built from its Go module
 * (lint, template), the gateway's own configuration schema and CLI, and the real Envoy, which
 * validates the bootstrap the chart renders and then runs it in front of the rendered gateway
 * command. No Kubernetes cluster runs here: scheduling, probes as the kubelet runs them, the
 * images themselves and Hazelcast's discovery inside a cluster are not checked
 * (docs/kubernetes.md#what-is-checked).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { parseConfig } from '../../src/config/load.js';
import { startEnvoy, validateEnvoyConfig, ADMIN_PORT_PLACEHOLDER, type EnvoyHandle } from '../harness/envoy.js';
import { hazelcastJar } from '../harness/components.js';
import { freePort, freePorts } from '../harness/ports.js';
import { startProcess, type ProcessHandle } from '../harness/process.js';
import { ORDER_TOOLS, jsonOf, rawInitialize, rawPost } from '../support/gateway.js';
import { CHART_DIR, ISTIO_DIR, containerPort, flagValue, helm, renderChart, renderError, startRenderedGateway, type Rendered } from '../support/helm-chart.js';

/** The socket address of a listener or cluster endpoint in an Envoy bootstrap. */
function clusterAddress(bootstrap: any, name: string): { address: string; port_value: number } {
  const cluster = bootstrap.static_resources.clusters.find((c: any) => c.name === name);
  return cluster.load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address;
}

const NON_DEFAULT = {
  replicaCount: 3,
  dataPlane: 'external',
  ports: { broker: 18080, extproc: 19002, xds: 19003, admin: 19090 },
  hazelcast: { enabled: false, externalMembers: ['hz-hazelcast.data.svc:5701'], clusterName: 'prod' },
  autoscaling: { enabled: true, minReplicas: 3, maxReplicas: 6 },
  serviceMonitor: { enabled: true },
  secrets: { existingSecrets: ['gateway-env'], env: [{ name: 'NOTES_CLIENT_SECRET', secretName: 'notes-oauth', key: 'client-secret' }] },
  policies: { 'gateway.rego': 'package mcp.gateway\n\ndefault allow := false\n' },
  config: {
    server: { path: '/mcp', allowedHosts: ['mcp.example.com'] },
    policy: { engine: 'opa', url: 'http://opa.policy.svc:8181', policyFiles: ['/etc/mcp-gateway/policies/gateway.rego'] },
    backends: [
      {
        name: 'notes',
        kind: 'mcp',
        urls: ['http://notes.tools.svc:8082/mcp'],
        credentials: { type: 'oauth2-client-credentials', tokenUrl: 'http://idp.example.com/token', clientId: 'gateway', clientSecret: '${NOTES_CLIENT_SECRET}' },
      },
    ],
  },
};

describe('helm lint', () => {
  it('passes --strict with the default, the Istio and non-default values, on the oldest Kubernetes the chart supports', async () => {
    for (const args of [[], ['-f', `${ISTIO_DIR}/values-istio.yaml`], ['--set', 'dataPlane=external,autoscaling.enabled=true,serviceMonitor.enabled=true']]) {
      const { code, output } = await helm(['lint', '--strict', '--kube-version', '1.30.0', CHART_DIR, ...args]);
      expect(output, args.join(' ')).toContain('1 chart(s) linted, 0 chart(s) failed');
      expect(code).toBe(0);
    }
  });
});

describe('the chart with its default values', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart();
  });

  it('runs every container as a non-root user without privilege escalation, on a read-only root file system', () => {
    expect(r.pod.securityContext.runAsNonRoot).toBe(true);
    for (const name of ['gateway', 'envoy']) {
      const sc = r.container(name).securityContext!;
      expect(sc.runAsUser, name).toBeGreaterThan(0);
      expect(sc.allowPrivilegeEscalation, name).toBe(false);
      expect(sc.readOnlyRootFilesystem, name).toBe(true);
      expect(sc.capabilities, name).toEqual({ drop: ['ALL'] });
    }
    const hz = r.one('StatefulSet').spec.template.spec;
    expect(hz.securityContext.runAsNonRoot).toBe(true);
    expect(hz.containers[0].securityContext.allowPrivilegeEscalation).toBe(false);
  });

  it('probes the admin listener the gateway is configured and started with: /livez for liveness, /readyz for readiness', () => {
    const gateway = r.container('gateway');
    const config = parseConfig(parse(r.gatewayYaml));
    const admin = containerPort(gateway, 'admin');
    expect(config.admin).toMatchObject({ host: '0.0.0.0', port: admin });
    expect(flagValue(gateway.args, '--admin-port')).toBe(String(admin));
    expect(gateway.livenessProbe.httpGet).toEqual({ path: '/livez', port: 'admin' });
    expect(gateway.startupProbe.httpGet).toEqual({ path: '/livez', port: 'admin' });
    expect(gateway.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'admin' });
    expect(r.container('envoy').readinessProbe.tcpSocket).toEqual({ port: 'mcp' });
  });

  it('keeps sessions in the release\'s own Hazelcast cluster, whose members find each other through its headless Service', () => {
    const config = parseConfig(parse(r.gatewayYaml));
    const service = r.one('Service', '-hazelcast');
    const statefulSet = r.one('StatefulSet');
    const env = Object.fromEntries(statefulSet.spec.template.spec.containers[0].env.map((e: any) => [e.name, e.value]));
    expect(config.sessions.store).toBe('hazelcast');
    expect(config.sessions.hazelcast.members).toEqual([`${service.metadata.name}.mcp.svc:5701`]);
    expect(config.sessions.hazelcast.clusterName).toBe(env.HZ_CLUSTERNAME);
    expect(env.HZ_NETWORK_JOIN_KUBERNETES_SERVICEDNS).toBe(`${service.metadata.name}.mcp.svc`);
    expect(service.spec.clusterIP).toBe('None');
    expect(service.spec.selector).toEqual(statefulSet.spec.template.metadata.labels);
  });

  it('keeps a gateway pod serving through voluntary disruptions', () => {
    const pdb = r.one('PodDisruptionBudget', 'gw-mcp-gateway');
    const deployment = r.one('Deployment');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    expect(pdb.spec.minAvailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.minAvailable).toBeLessThan(deployment.spec.replicas);
  });

  it('gives Envoy a bootstrap the real Envoy accepts, listening on the Service\'s target port and pointed at the gateway\'s own ports on the pod\'s loopback', async () => {
    const { ok, output } = await validateEnvoyConfig(r.envoyYaml);
    expect(ok, output).toBe(true);
    const bootstrap = parse(r.envoyYaml);
    const gateway = r.container('gateway');
    const envoy = r.container('envoy');
    expect(envoy.restartPolicy).toBe('Always'); // a native sidecar: stops after the gateway drained
    const listener = bootstrap.static_resources.listeners[0].address.socket_address;
    expect(listener).toEqual({ address: '0.0.0.0', port_value: containerPort(envoy, 'mcp') });
    const http = r.one('Service', 'gw-mcp-gateway').spec.ports.find((p: any) => p.name === 'http');
    expect(http.targetPort).toBe('mcp');
    for (const [cluster, flag] of [['extproc', '--extproc-port'], ['broker', '--broker-port'], ['xds', '--xds-port']] as const) {
      expect(clusterAddress(bootstrap, cluster), cluster).toEqual({ address: '127.0.0.1', port_value: Number(flagValue(gateway.args, flag)) });
    }
    // Without --host, ext_proc and xDS listen on loopback only: nothing outside the pod reaches them.
    expect(gateway.args).not.toContain('--host');
    expect(bootstrap.admin.address.socket_address.address).toBe('127.0.0.1');
  });
});

describe('the chart with non-default values', () => {
  let r: Rendered;
  beforeAll(async () => {
    r = await renderChart({ values: NON_DEFAULT });
  });

  it('serves ext_proc and the broker to an external Envoy through the Service, on the configured ports, and runs no Envoy', () => {
    const gateway = r.container('gateway');
    const ports = Object.fromEntries(r.one('Service').spec.ports.map((p: any) => [p.name, p]));
    expect(Object.keys(ports).sort()).toEqual(['grpc-extproc', 'http-admin', 'http-broker']);
    expect(ports['grpc-extproc']).toMatchObject({ port: 19002, targetPort: 'extproc', appProtocol: 'grpc' });
    expect(containerPort(gateway, 'extproc')).toBe(19002);
    expect(flagValue(gateway.args, '--extproc-port')).toBe('19002');
    expect(flagValue(gateway.args, '--host')).toBe('0.0.0.0');
    expect(containerPort(gateway, 'broker')).toBe(parseConfig(parse(r.gatewayYaml), { NOTES_CLIENT_SECRET: 's' }).server.port);
    expect(r.pod.initContainers).toBeUndefined();
    expect(r.all('ConfigMap').map((c) => c.metadata.name)).not.toContain('gw-mcp-gateway-envoy');
  });

  it('takes secrets by reference only, and the configuration reads them from the environment', () => {
    const gateway = r.container('gateway');
    expect(gateway.envFrom).toEqual([{ secretRef: { name: 'gateway-env' } }]);
    expect(gateway.env).toContainEqual({ name: 'NOTES_CLIENT_SECRET', valueFrom: { secretKeyRef: { name: 'notes-oauth', key: 'client-secret' } } });
    expect(r.all('Secret')).toEqual([]);
    const config = parseConfig(parse(r.gatewayYaml), { NOTES_CLIENT_SECRET: 'from-the-secret' });
    expect(config.backends[0]!.credentials).toMatchObject({ clientSecret: 'from-the-secret' });
    expect(() => parseConfig(parse(r.gatewayYaml), {})).toThrow(/NOTES_CLIENT_SECRET is not set/);
  });

  it('mounts the Rego modules where the configuration names them', () => {
    const mount = r.container('gateway').volumeMounts!.find((m) => m.name === 'policies')!;
    const config = parseConfig(parse(r.gatewayYaml), { NOTES_CLIENT_SECRET: 's' });
    expect(config.policy.engine === 'opa' && config.policy.policyFiles).toEqual([`${mount.mountPath}/gateway.rego`]);
    expect(r.one('ConfigMap', '-policies').data!['gateway.rego']).toContain('package mcp.gateway');
  });

  it('scales on CPU with a disruption budget below the smallest scale, scraped by a ServiceMonitor, with sessions in an existing Hazelcast', () => {
    expect(r.one('HorizontalPodAutoscaler').spec).toMatchObject({ minReplicas: 3, maxReplicas: 6, scaleTargetRef: { kind: 'Deployment', name: 'gw-mcp-gateway' } });
    expect(r.one('Deployment').spec.replicas).toBeUndefined();
    expect(r.one('PodDisruptionBudget').spec.minAvailable).toBe(1);
    const endpoint = r.one('ServiceMonitor').spec.endpoints[0];
    expect(endpoint).toMatchObject({ port: 'http-admin', path: '/metrics' });
    expect(r.one('Service').spec.ports.find((p: any) => p.name === 'http-admin').port).toBe(19090);
    expect(r.all('StatefulSet')).toEqual([]);
    const config = parseConfig(parse(r.gatewayYaml), { NOTES_CLIENT_SECRET: 's' });
    expect(config.sessions).toMatchObject({ store: 'hazelcast', hazelcast: { members: ['hz-hazelcast.data.svc:5701'], clusterName: 'prod' } });
  });
});

describe('values the chart refuses, naming the value to change', () => {
  it('several replicas over in-memory sessions', async () => {
    expect(await renderError({ hazelcast: { enabled: false } })).toMatch(/more than one gateway replica needs a shared session store: set hazelcast\.enabled=true or hazelcast\.externalMembers/);
    expect(await renderError({ replicaCount: 1, autoscaling: { enabled: true }, hazelcast: { enabled: false } })).toMatch(/shared session store/);
  });

  it('two components on one port, an unknown data plane, both Hazelcast sources at once', async () => {
    expect(await renderError({ ports: { admin: 8080 } })).toMatch(/ports must all differ/);
    expect(await renderError({ dataPlane: 'envoy' })).toMatch(/dataPlane.*must be one of 'envoy-sidecar', 'external'/);
    expect(await renderError({ hazelcast: { externalMembers: ['hz:5701'] } })).toMatch(/hazelcast\.enabled and hazelcast\.externalMembers exclude each other/);
  });

  it('a Kubernetes without native sidecars and the preStop sleep action', async () => {
    expect(await renderError({}, ['--kube-version', '1.29.0'])).toMatch(/requires kubeVersion: >=1\.30\.0-0/);
    await expect(renderChart({ extraArgs: ['--kube-version', '1.30.0'] })).resolves.toBeDefined();
  });
});

describe('the rendered pod, run here: the gateway command and Envoy bootstrap of the chart', () => {
  let orders: OrdersApi;
  let gateway: ProcessHandle | undefined;
  let envoy: EnvoyHandle | undefined;
  let mcpUrl: string;

  beforeAll(async () => {
    orders = await startOrdersApi();
    const [mcp, broker, extproc, xds, admin, envoyAdmin] = await freePorts(6);
    const r = await renderChart({
      values: {
        replicaCount: 1,
        hazelcast: { enabled: false },
        ports: { mcp, broker, extproc, xds, admin, envoyAdmin },
        config: { server: { path: '/mcp' }, backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] },
      },
    });
    gateway = await startRenderedGateway(r);
    // The harness picks Envoy's admin port itself (it probes readiness there).
    envoy = await startEnvoy({ configYaml: r.envoyYaml.replace(`port_value: ${envoyAdmin} } # PORT:admin`, `port_value: ${ADMIN_PORT_PLACEHOLDER} } # PORT:admin`) });
    mcpUrl = `http://127.0.0.1:${mcp}/mcp`;
  }, 90_000);

  afterAll(async () => {
    await envoy?.stop();
    await gateway?.stop();
    await orders?.close();
  });

  it('serves MCP through Envoy: ext_proc admits, the broker answers, a REST tool is called', async () => {
    const { sessionId, body } = await rawInitialize(mcpUrl);
    expect(body.result.serverInfo).toBeDefined();
    expect(sessionId).toMatch(/\S{20,}/);
    const res = await rawPost(mcpUrl, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1001' } } });
    expect(res.status).toBe(200);
    expect((await jsonOf(res)).result.structuredContent).toMatchObject({ id: '1001' });
    const unknown = await rawPost(mcpUrl, 'not-a-session', { jsonrpc: '2.0', id: 3, method: 'tools/list' });
    expect(unknown.status).toBe(404);
  });
});

describe('the Hazelcast member of the rendered StatefulSet, run here with its environment', () => {
  let member: ProcessHandle | undefined;
  afterAll(async () => {
    await member?.stop();
  });

  it('takes the Kubernetes DNS discovery from its environment and answers the probes it is given', async () => {
    const r = await renderChart();
    const container = r.one('StatefulSet').spec.template.spec.containers[0];
    const env: Record<string, string> = Object.fromEntries(container.env.map((e: any) => [e.name, e.value]));
    const port = await freePort();
    member = await startProcess({
      name: 'hazelcast (rendered)',
      cmd: 'java',
      // The official image passes JAVA_OPTS to the JVM; no cluster DNS here, so the headless
      // Service's name becomes localhost, and the member port a free one.
      args: [...env.JAVA_OPTS!.split(' '), '-Xmx256m', '-Dhazelcast.phone.home.enabled=false', '-cp', hazelcastJar(), 'com.hazelcast.core.server.HazelcastMemberStarter'],
      env: { ...env, HZ_NETWORK_JOIN_KUBERNETES_SERVICEDNS: 'localhost', HZ_NETWORK_PORT_PORT: String(port), HZ_NETWORK_PORT_AUTOINCREMENT: 'false' },
      timeoutMs: 90_000,
      ready: async ({ output }) => / is STARTED/.test(output()),
    });
    expect(member.output()).toContain('Kubernetes Discovery activated with mode: DNS_LOOKUP');
    expect(member.output()).toContain(`[${env.HZ_CLUSTERNAME}]`);
    for (const probe of [container.readinessProbe, container.livenessProbe]) {
      const res = await fetch(`http://127.0.0.1:${port}${probe.httpGet.path}`);
      expect(res.status, probe.httpGet.path).toBe(200);
    }
  }, 120_000);
});
