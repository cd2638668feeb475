/**
 * The Envoy topology when part of the gateway cannot serve: the broker unreachable while ext_proc
 * still admits (Envoy's own answer must be the registry's GW_UNAVAILABLE, JSON-RPC, 503,
 * Retry-After, not its plain-text 503, and leave a line in Envoy's access log); and a replica
 * whose process stops answering, as the extproc cluster or the broker cluster sees it (Envoy's
 * health checks must take it out).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { jsonOf, MCP_HEADERS, ORDER_TOOLS, rawInitialize, rawPost, startExtProc } from '../support/gateway.js';
import { freezableRelay, type FreezableRelay } from '../support/freezable-relay.js';
import { waitFor } from '../support/wait.js';

/** envoy.yaml with a second endpoint, at `port`, in the cluster whose endpoint is tagged `# PORT:<tag>`. */
function withSecondEndpoint(tag: 'extproc' | 'broker', port: number): (template: string) => string {
  const tagged = new RegExp(`(socket_address: \\{ address: 127\\.0\\.0\\.1, port_value: \\d+ \\} # PORT:${tag})`);
  return (template) => template.replace(tagged, `$1\n              - endpoint:\n                  address:\n                    socket_address: { address: 127.0.0.1, port_value: ${port} }`);
}

const INIT = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };

let orders: OrdersApi;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startExtProc({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
  // The broker cluster points at a port nothing listens on: every broker replica is down. Port 1
  // (tcpmux), not a free port found now, which another test running beside this one could take.
  ({ envoy, endpoint } = await startTopologyEnvoy({ brokerUrl: 'http://127.0.0.1:1/mcp', extprocPort: gw.extprocPort, xdsPort: gw.xdsPort }));
}, 60_000);

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
});

describe('the Envoy topology without a reachable broker', () => {
  it('answers an admitted request no broker could take with GW_UNAVAILABLE, safe to retry', async () => {
    const res = await fetch(endpoint, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(res.headers.get('content-type')).toBe('application/json');
    // ext_proc read the request, so the answer keeps its id.
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: 1, error: { code: -32603, message: 'Gateway unavailable: no gateway replica could take the request; retry later', data: { code: 'GW_UNAVAILABLE' } } });
    // The operator's side: Envoy writes its log file when it stops.
    await envoy.stop();
    const logged = envoy.output().split('\n').filter((l) => l.includes('"cluster":"broker"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    expect(logged).toContainEqual(expect.objectContaining({ method: 'POST', path: '/mcp', status: 503, flags: expect.stringContaining('UF') }));
  });
});

/**
 * A gateway process behind the real Envoy, with a second replica in one of its clusters: a
 * freezable relay to the same process, so tickets and sessions hold whichever replica Envoy picks.
 */
interface TwoReplicas {
  readonly envoy: EnvoyHandle;
  readonly endpoint: string;
  readonly relay: FreezableRelay;
  /** Envoy's count of the cluster's replicas it deems healthy. */
  healthy(): Promise<number>;
  stop(): Promise<void>;
}

async function twoReplicas(cluster: 'extproc' | 'broker'): Promise<TwoReplicas> {
  const gw = await startExtProc({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
  const relay = await freezableRelay(cluster === 'extproc' ? gw.extprocPort : Number(new URL(gw.brokerUrl).port));
  const { envoy, endpoint } = await startTopologyEnvoy(gw, withSecondEndpoint(cluster, relay.port));
  return {
    envoy,
    endpoint,
    relay,
    healthy: () => envoyStat(envoy.adminUrl, `cluster.${cluster}.membership_healthy`),
    stop: async () => {
      await envoy.stop();
      await gw.stop();
      await relay.close();
    },
  };
}

describe('the Envoy topology with a gateway replica that stops answering', () => {
  let t: TwoReplicas;
  beforeAll(async () => {
    t = await twoReplicas('extproc');
  }, 60_000);
  afterAll(() => t?.stop());

  it("takes it out once its health checks go unanswered, even before any request came, so none waits out ext_proc's message timeout", { timeout: 60_000 }, async () => {
    await waitFor(async () => (await t.healthy()) === 2, 'both replicas healthy', 15_000);
    // It hangs before Envoy sent it any request: only the health checks can tell.
    t.relay.freeze();
    await waitFor(async () => (await t.healthy()) === 1, 'the hung replica taken out', 15_000);
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(t.endpoint, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(INIT) });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual(Array(10).fill(200));
  });
});

describe('the Envoy topology with a broker replica that stops answering', () => {
  let t: TwoReplicas;
  beforeAll(async () => {
    t = await twoReplicas('broker');
  }, 60_000);
  afterAll(() => t?.stop());

  it('takes it out once its health checks go unanswered, so no broker request waits on it forever', { timeout: 60_000 }, async () => {
    await waitFor(async () => (await t.healthy()) === 2, 'both broker replicas healthy', 15_000);
    // Failed connections cannot tell: the hung replica accepts them. The broker route has no
    // timeout, so a request Envoy sent it would never be answered.
    t.relay.freeze();
    await waitFor(async () => (await t.healthy()) === 1, 'the hung broker replica taken out', 15_000);
    const { sessionId } = await rawInitialize(t.endpoint);
    // Listings and REST tool calls are the broker's: round robin would send every other one to the hung replica.
    const answers: unknown[] = [];
    for (let i = 0; i < 6; i++) {
      const list = await jsonOf(await rawPost(t.endpoint, sessionId, { jsonrpc: '2.0', id: 10 + i, method: 'tools/list' }));
      answers.push(list.result.tools.length);
      const call = await jsonOf(await rawPost(t.endpoint, sessionId, { jsonrpc: '2.0', id: 20 + i, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1002' } } }));
      answers.push(call.result.structuredContent.item);
    }
    expect(answers).toEqual(Array(6).fill([ORDER_TOOLS.length, 'monitor']).flat());
  });
});
