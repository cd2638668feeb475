/**
 * What a client gets through the Envoy topology when the broker cannot be reached at all while
 * ext_proc still admits: Envoy's own answer, which must be the registry's GW_UNAVAILABLE (JSON-RPC,
 * 503, Retry-After), not its plain-text 503, and must leave a line in Envoy's access log.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { freePort } from '../harness/ports.js';
import { startTopologyEnvoy } from '../harness/topology-envoy.js';
import { MCP_HEADERS, ORDER_TOOLS, startExtProc } from '../support/gateway.js';

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
