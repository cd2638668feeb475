/**
 * Smoke tests for the real-infrastructure harness: each component starts on
 * loopback and does the one thing the gateway relies on it for.
 * Needs `bash scripts/install-components.sh` to have run.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startConsul, type ConsulHandle } from './consul.js';
import { ADMIN_PORT_PLACEHOLDER, httpListener, startEnvoy, staticCluster, validateEnvoyConfig } from './envoy.js';
import { startHazelcast } from './hazelcast.js';
import { startOpa, type OpaHandle } from './opa.js';
import { freePort } from './ports.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('consul', () => {
  let consul: ConsulHandle | undefined;
  beforeAll(async () => {
    consul = await startConsul();
  }, 90_000);
  afterAll(async () => {
    await consul?.stop();
  });

  it('lists a service registered through the agent API in the catalog', async () => {
    const url = consul!.url;
    const reg = await fetch(`${url}/v1/agent/service/register`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ Name: 'weather-api', ID: 'weather-api-1', Address: '127.0.0.1', Port: 9999 }),
    });
    expect(reg.status).toBe(200);

    let services: Record<string, string[]> = {};
    for (let i = 0; i < 50 && !('weather-api' in services); i++) {
      services = (await (await fetch(`${url}/v1/catalog/services`)).json()) as Record<string, string[]>;
      if (!('weather-api' in services)) await sleep(100);
    }
    expect(services).toHaveProperty('weather-api');
    expect(services).toHaveProperty('consul');
  });
});

describe('opa', () => {
  let opa: OpaHandle | undefined;
  beforeAll(async () => {
    opa = await startOpa();
  }, 60_000);
  afterAll(async () => {
    await opa?.stop();
  });

  it('evaluates an uploaded Rego policy', async () => {
    const policy = [
      'package mcp.authz',
      'default allow := false',
      'allow if input.user == "alice"',
    ].join('\n');
    const put = await fetch(`${opa!.url}/v1/policies/x`, {
      method: 'PUT',
      headers: { 'content-type': 'text/plain' },
      body: policy,
    });
    expect(put.status).toBe(200);

    const decide = async (user: string): Promise<unknown> => {
      const res = await fetch(`${opa!.url}/v1/data/mcp/authz/allow`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ input: { user } }),
      });
      return ((await res.json()) as { result?: unknown }).result;
    };
    expect(await decide('alice')).toBe(true);
    expect(await decide('mallory')).toBe(false);
  });
});

describe('hazelcast', () => {
  it('two members started with TCP-IP join form one cluster', async () => {
    const clusterName = `mcp-gw-test-${process.pid}-${Date.now()}`;
    const first = await startHazelcast({ clusterName });
    try {
      const second = await startHazelcast({ clusterName, members: [first.port], expectMembers: 2 });
      try {
        await first.waitForMembers(2);
        expect(second.output()).toMatch(/Members \{size:2/);
        expect(first.output()).toContain(`Member [127.0.0.1]:${second.port}`);
      } finally {
        await second.stop();
      }
    } finally {
      await first.stop();
    }
  }, 180_000);
});

describe('envoy', () => {
  const minimalConfig = `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${ADMIN_PORT_PLACEHOLDER} } }
static_resources: {}
`;

  it('validate mode accepts a valid config and rejects an invalid one', async () => {
    const good = await validateEnvoyConfig(minimalConfig);
    expect(good.ok, good.output).toBe(true);

    const bad = await validateEnvoyConfig(`${minimalConfig}\nnot_a_bootstrap_field: 1\n`);
    expect(bad.ok).toBe(false);
    expect(bad.output).toMatch(/not_a_bootstrap_field/);
  }, 60_000);

  describe('proxying', () => {
    let upstream: Server | undefined;
    let upstreamPort = 0;
    beforeAll(async () => {
      upstream = createServer((req, res) => {
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ path: req.url, via: req.headers['x-envoy-expected-rq-timeout-ms'] !== undefined }));
      });
      await new Promise<void>((resolve) => upstream!.listen(0, '127.0.0.1', resolve));
      upstreamPort = (upstream.address() as { port: number }).port;
    });
    afterAll(async () => {
      await new Promise<void>((resolve) => (upstream ? upstream.close(() => resolve()) : resolve()));
    });

    it('forwards an HTTP request to a node:http upstream', async () => {
      const listenPort = await freePort();
      const envoy = await startEnvoy({
        configYaml: `
admin:
  address: { socket_address: { address: 127.0.0.1, port_value: ${ADMIN_PORT_PLACEHOLDER} } }
static_resources:
  listeners:
${httpListener({ name: 'ingress', port: listenPort, routes: ['{ match: { prefix: "/" }, route: { cluster: upstream } }'] })}  clusters:
${staticCluster('upstream', '127.0.0.1', upstreamPort)}`,
      });
      try {
        const res = await fetch(`http://127.0.0.1:${listenPort}/tools/list?x=1`);
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({ path: '/tools/list?x=1', via: true });
      } finally {
        await envoy.stop();
      }
    }, 60_000);
  });
});
