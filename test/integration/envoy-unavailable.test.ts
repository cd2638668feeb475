/**
 * The Envoy topology when part of the gateway cannot serve: the broker unreachable while ext_proc
 * still admits (Envoy's own answer must be the registry's GW_UNAVAILABLE, JSON-RPC, 503,
 * Retry-After, not its plain-text 503, and leave a line in Envoy's access log); and a replica
 * whose process stops answering (Envoy's health checks must take it out).
 */
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { MCP_HEADERS, ORDER_TOOLS, startExtProc } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

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
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const res = await fetch(endpoint, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(init) });
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

describe('the Envoy topology with a gateway replica that stops answering', () => {
  let gw2: RunningExtProc;
  let envoy2: EnvoyHandle;
  let endpoint2: string;
  /**
   * A second replica in the extproc cluster: a relay to the real one, which can freeze like a
   * process whose event loop got stuck (its port still accepts connections; nothing answers).
   */
  let relay: Server;
  const held = new Set<Socket>();
  let frozen = false;
  const freeze = (): void => {
    frozen = true;
    for (const socket of held) {
      socket.unpipe();
      socket.pause();
    }
  };

  beforeAll(async () => {
    gw2 = await startExtProc({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
    relay = createServer((client) => {
      held.add(client);
      client.on('error', () => undefined);
      if (frozen) return;
      const upstream = connect(gw2.extprocPort, '127.0.0.1');
      held.add(upstream);
      upstream.on('error', () => undefined);
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((resolve) => relay.listen(0, '127.0.0.1', resolve));
    const relayPort = (relay.address() as AddressInfo).port;
    ({ envoy: envoy2, endpoint: endpoint2 } = await startTopologyEnvoy(gw2, (template) =>
      template.replace(/(socket_address: \{ address: 127\.0\.0\.1, port_value: \d+ \} # PORT:extproc)/, `$1\n              - endpoint:\n                  address:\n                    socket_address: { address: 127.0.0.1, port_value: ${relayPort} }`),
    ));
  }, 60_000);

  afterAll(async () => {
    await envoy2?.stop();
    await gw2?.stop();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => relay?.close(resolve));
  });

  it("takes it out once its health checks go unanswered, even before any request came, so none waits out ext_proc's message timeout", { timeout: 60_000 }, async () => {
    const healthy = (): Promise<number> => envoyStat(envoy2.adminUrl, 'cluster.extproc.membership_healthy');
    await waitFor(async () => (await healthy()) === 2, 'both replicas healthy', 15_000);
    // It hangs before Envoy sent it any request: only the health checks can tell.
    freeze();
    await waitFor(async () => (await healthy()) === 1, 'the hung replica taken out', 15_000);
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(endpoint2, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(init) });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual(Array(10).fill(200));
  });
});
