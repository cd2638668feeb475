/**
 * The Envoy topology when part of the gateway cannot serve: the broker unreachable while ext_proc
 * still admits (Envoy's own answer must be the registry's GW_UNAVAILABLE, JSON-RPC, 503,
 * Retry-After, not its plain-text 503, and leave a line in Envoy's access log); and a replica
 * whose process stopped answering (Envoy's health checks must take it out).
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { freePort } from '../harness/ports.js';
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
  // The broker cluster points at a port nothing listens on: every broker replica is down.
  const dead = await freePort();
  ({ envoy, endpoint } = await startTopologyEnvoy({ brokerUrl: `http://127.0.0.1:${dead}/mcp`, extprocPort: gw.extprocPort, xdsPort: gw.xdsPort }));
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
    expect(await res.json()).toEqual({ jsonrpc: '2.0', id: null, error: { code: -32603, message: 'Gateway unavailable: no gateway replica could take the request; retry later', data: { code: 'GW_UNAVAILABLE' } } });
    // The operator's side: Envoy writes its log file when it stops.
    await envoy.stop();
    const logged = envoy.output().split('\n').filter((l) => l.includes('"cluster":"broker"')).map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    expect(logged).toContainEqual(expect.objectContaining({ method: 'POST', path: '/mcp', status: 503, flags: expect.stringContaining('UF') }));
  });
});

describe('the Envoy topology with a gateway replica that stopped answering', () => {
  let gw2: RunningExtProc;
  let envoy2: EnvoyHandle;
  let endpoint2: string;
  /** A replica's port whose process accepts connections and never answers (a stuck event loop). */
  let hung: Server;
  const held = new Set<Socket>();

  beforeAll(async () => {
    gw2 = await startExtProc({ backends: [{ name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS }] });
    hung = createServer((socket) => void held.add(socket));
    await new Promise<void>((resolve) => hung.listen(0, '127.0.0.1', resolve));
    const hungPort = (hung.address() as AddressInfo).port;
    // The hung replica beside the real one in the extproc cluster.
    ({ envoy: envoy2, endpoint: endpoint2 } = await startTopologyEnvoy(gw2, (template) =>
      template.replace(/(socket_address: \{ address: 127\.0\.0\.1, port_value: \d+ \} # PORT:extproc)/, `$1\n              - endpoint:\n                  address:\n                    socket_address: { address: 127.0.0.1, port_value: ${hungPort} }`),
    ));
  }, 60_000);

  afterAll(async () => {
    await envoy2?.stop();
    await gw2?.stop();
    for (const socket of held) socket.destroy();
    await new Promise((resolve) => hung?.close(resolve));
  });

  it("stops sending it requests once its health check goes unanswered, so none waits out ext_proc's message timeout", { timeout: 60_000 }, async () => {
    expect(await envoyStat(envoy2.adminUrl, 'cluster.extproc.membership_total')).toBe(2);
    await waitFor(async () => (await envoyStat(envoy2.adminUrl, 'cluster.extproc.membership_healthy')) === 1, 'the hung replica marked unhealthy', 20_000);
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const statuses: number[] = [];
    for (let i = 0; i < 10; i++) {
      const res = await fetch(endpoint2, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(init) });
      statuses.push(res.status);
      await res.text();
    }
    expect(statuses).toEqual(Array(10).fill(200));
    // The live replica passes its checks: it answers SERVING.
    expect(await envoyStat(envoy2.adminUrl, 'cluster.extproc.health_check.success')).toBeGreaterThan(0);
  });
});
