/**
 * The real Envoy with envoy/envoy.yaml in front of the ext_proc service and the broker, and the
 * official MCP SDK client going through Envoy. Also checks that Envoy fails closed when the
 * ext_proc service is gone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { GatewayRequest } from '../../src/admission/decision.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { validateEnvoyConfig, type EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { connectClient } from '../support/client.js';
import { MCP_HEADERS, ORDER_TOOLS, rawInitialize, rawPost, startExtProc } from '../support/gateway.js';
import { startGatedProxy, type GatedProxy } from '../support/http-backends.js';
import { waitFor } from '../support/wait.js';

let orders: OrdersApi;
/** A native backend (notes) behind a proxy that can hold and fail its calls. */
let notes: NotesServer;
let flaky: GatedProxy;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;
let config: string;

beforeAll(async () => {
  orders = await startOrdersApi();
  notes = await startNotesServer();
  flaky = await startGatedProxy(notes.url);
  gw = await startExtProc({
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'flaky', kind: 'mcp', urls: [flaky.url] },
    ],
  });
  ({ envoy, endpoint, configYaml: config } = await startTopologyEnvoy(gw));
  await waitFor(() => gw.core.catalog.current().tools.has('flaky_add_note'), 'native tools discovered', 15_000);
  await waitFor(async () => (await envoyStat(envoy.adminUrl, 'cluster.mcp_backend_flaky.membership_healthy')) === 1, 'Envoy knows the flaky cluster', 15_000);
}, 60_000);

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await orders?.close();
  await flaky?.close();
  await notes?.close();
});

describe('MCP through Envoy and ext_proc', () => {
  it('envoy/envoy.yaml passes `envoy --mode validate`', async () => {
    const { ok, output } = await validateEnvoyConfig(config);
    expect(ok, output).toBe(true);
  });

  it('serves the MCP SDK client: initialize, tools/list, a REST tool call', async () => {
    const { client } = await connectClient(endpoint);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toContain('orders_get_order');
    const result = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
    expect(result.isError).toBeFalsy();
    expect(result.structuredContent).toMatchObject({ id: '1001', item: 'keyboard' });
    await client.ping();
    await client.close();
  });

  it('relays a streamed REST answer chunk by chunk through Envoy', async () => {
    const { client } = await connectClient(endpoint);
    const progress: string[] = [];
    const result = await client.callTool({ name: 'orders_track_order', arguments: { id: '1001' } }, undefined, {
      onprogress: (p) => progress.push(p.message ?? ''),
    });
    expect(progress.map((m) => JSON.parse(m).event)).toEqual(['received', 'packed', 'shipped', 'delivered']);
    expect((result.content as Array<{ text: string }>)[0]!.text.split('\n')).toHaveLength(4);
    await client.close();
  });

  it('answers bad input from ext_proc with the JSON-RPC error, before any upstream', async () => {
    const res = await fetch(endpoint, { method: 'POST', headers: MCP_HEADERS, body: '{"jsonrpc":' });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', error: { code: -32700 } });

    const noSession = await fetch(endpoint, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify({ jsonrpc: '2.0', id: 3, method: 'tools/list' }) });
    expect(noSession.status).toBe(400);
    expect(await noSession.json()).toMatchObject({ id: 3, error: {} });
  });

  it('strips client-supplied x-mcp-gateway-* headers, overrides the route header, and admits each request once', async () => {
    const seen: GatewayRequest[] = [];
    const admission = gw.core.admission;
    const original = admission.decide.bind(admission);
    admission.decide = (req) => {
      seen.push(req);
      return original(req);
    };
    try {
      const { sessionId } = await rawInitialize(endpoint);
      // A client trying to pick a cluster (the ext_proc service itself) and to claim an identity.
      const res = await fetch(endpoint, {
        method: 'POST',
        headers: { ...MCP_HEADERS, 'mcp-session-id': sessionId, 'x-mcp-gateway-subject': 'admin', 'x-mcp-gateway-route': 'extproc' },
        body: JSON.stringify({ jsonrpc: '2.0', id: 5, method: 'tools/list' }),
      });
      expect(res.status).toBe(200);
      expect(((await res.json()) as { result: { tools: unknown[] } }).result.tools.length).toBeGreaterThan(0);
    } finally {
      admission.decide = original;
    }
    // ext_proc's view (peer address from Envoy's source.address attribute): no client copy of a
    // gateway header. The broker carried out ext_proc's decision without admitting the request again.
    const admitted = seen.filter((r) => r.body?.includes('tools/list'));
    expect(admitted).toHaveLength(1);
    expect(admitted[0]!.remoteAddress).toBe('127.0.0.1');
    expect(Object.keys(admitted[0]!.headers).filter((h) => h.startsWith('x-mcp-gateway-'))).toEqual([]);
  });

  it('fails closed when the ext_proc service is down, with a JSON-RPC error that says to retry', async () => {
    // A call routed to its backend before ext_proc went away, whose backend then fails it: its
    // failing answer cannot be shown to ext_proc. It may have run, so it must not be told to retry.
    const { sessionId } = await rawInitialize(endpoint);
    const era = { 'mcp-protocol-version': '2025-11-25' };
    await rawPost(endpoint, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' }, era);
    flaky.delayCallsMs = 1_500;
    flaky.failCalls = 502;
    const routed = rawPost(endpoint, sessionId, { jsonrpc: '2.0', id: 9, method: 'tools/call', params: { name: 'flaky_add_note', arguments: { text: 'maybe' } } }, era);
    await waitFor(() => flaky.callHeaders.length > 0, 'the call at its backend', 5_000);
    await gw.extproc.stop();
    const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
    const res = await fetch(endpoint, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(init) });
    expect(res.status).toBe(503);
    expect(res.headers.get('mcp-session-id')).toBeNull();
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toMatchObject({ jsonrpc: '2.0', id: null, error: { code: -32603, data: { code: 'GW_UNAVAILABLE' } } });
    const late = await routed;
    expect(late.status).toBeGreaterThanOrEqual(500);
    expect(late.status).not.toBe(503);
    expect(await late.text()).not.toContain('GW_UNAVAILABLE');
    const get = await fetch(`${endpoint.replace('/mcp', '/healthz')}`);
    expect(get.status).toBeGreaterThanOrEqual(500);
    // The reason is for the operator: one line of Envoy's access log, not the client's answer.
    // Envoy writes its log file every 10 s, and when it stops.
    await envoy.stop();
    const logged = envoy.output().split('\n').filter((l) => l.includes('"details":"ext_proc_error')).map((l) => JSON.parse(l.slice(l.indexOf('{'))));
    // The refused request, which went nowhere; and the routed call, which had reached its backend.
    expect(logged).toContainEqual(expect.objectContaining({ method: 'POST', path: '/mcp', status: 503, cluster: null, upstream: null }));
    expect(logged).toContainEqual(expect.objectContaining({ method: 'POST', path: '/mcp', cluster: 'mcp_backend_flaky', status: late.status }));
  });
});
