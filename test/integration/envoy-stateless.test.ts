/**
 * A stateless (2026-07-28) client through the real Envoy topology: envoy/envoy.yaml in front of
 * the gateway process (ext_proc, broker, xDS), a session-era SDK 1.x backend behind, the official
 * 2.4 client pinned to 2026-07-28 in front. ext_proc admits it (headers checked against the body)
 * and hands it to the broker, which bridges it to the backend: lists, calls, and an elicitation
 * the backend asks during a call, answered over `input_required`. Beside it a 2026-07-28 backend
 * (the 2.4 SDK server): Envoy routes the stateless client's calls of its tools straight to its
 * cluster, under the same rate limits, and refuses them when ext_proc is down.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { clusterName } from '../../src/xds/clusters.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { connectClient } from '../support/client.js';
import { MCP_HEADERS, startExtProc } from '../support/gateway.js';
import { modernClient } from '../support/stateless-client.js';
import { waitFor } from '../support/wait.js';
import { startGatedProxy, type GatedProxy } from '../support/http-backends.js';

const textOf = (r: any): string => r.content?.[0]?.text;

/** A stateless `tools/call` of `name` posted by hand, its `Mcp-Name` header saying `headerName`. */
function rawCall(id: number, name: string, headerName: string): Promise<Response> {
  return fetch(endpoint, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': headerName },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name, arguments: { text: 'x' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
    }),
  });
}

let asker: AskingServer;
let modern: ModernServer;
/** The 2026-07-28 backend behind a proxy that can fail its calls. */
let brittle: GatedProxy;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;

beforeAll(async () => {
  asker = await startAskingServer();
  modern = await startModernServer('modern', { resources: false });
  brittle = await startGatedProxy(modern.url);
  gw = await startExtProc({
    backends: [
      { name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' },
      { name: 'modern', kind: 'mcp', urls: [modern.url] },
      { name: 'brittle', kind: 'mcp', urls: [brittle.url] },
    ],
  });
  // The per-tool limit of envoy.yaml, on a tool of the 2026-07-28 backend: 2 calls a minute.
  ({ envoy, endpoint } = await startTopologyEnvoy(gw, (t) =>
    t
      .replace(/token_bucket: \{[^}]*\} # LIMIT:tool-cancel/, 'token_bucket: { max_tokens: 2, tokens_per_fill: 2, fill_interval: 60s } # LIMIT:tool-cancel')
      .replace('value: orders_cancel_order }', 'value: modern_weather }'),
  ));
  await waitFor(() => gw.core.catalog.current().tools.has('ask_name') && gw.core.catalog.current().tools.has('modern_echo') && gw.core.catalog.current().tools.has('brittle_echo'), 'the backend tools discovered', 15_000);
  await waitFor(async () => (await envoyStat(envoy.adminUrl, `cluster.${clusterName('modern').replace('.', '_')}.membership_healthy`)) === 1, 'Envoy to know the modern cluster', 15_000);
});

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await asker?.close();
  await brittle?.close();
  await modern?.close();
});

describe('a stateless client through Envoy', () => {
  it("answers a routed call its 2026-07-28 backend failed with the gateway's tool error in that era's shape, not the backend's HTTP status", async () => {
    await waitFor(async () => (await envoyStat(envoy.adminUrl, `cluster.${clusterName('brittle').replace('.', '_')}.membership_healthy`)) === 1, 'Envoy to know the brittle cluster', 15_000);
    const before = await envoyStat(envoy.adminUrl, `cluster.${clusterName('brittle').replace('.', '_')}.upstream_rq_total`);
    brittle.failCalls = 503;
    try {
      const res = await rawCall(21, 'brittle_echo', 'brittle_echo');
      expect(res.status).toBe(200);
      const answer = (await res.json()) as any;
      expect(answer).toMatchObject({ id: 21, result: { resultType: 'complete', isError: true, _meta: { 'io.github.mcp-gateway/error': 'GW_UPSTREAM_UNAVAILABLE', 'io.modelcontextprotocol/serverInfo': { name: 'mcp-gateway' } } } });
      expect(textOf(answer.result)).toContain('HTTP 503 from backend "brittle"');
      // Routed by Envoy, not carried by the broker.
      expect(await envoyStat(envoy.adminUrl, `cluster.${clusterName('brittle').replace('.', '_')}.upstream_rq_total`)).toBeGreaterThan(before);
    } finally {
      brittle.failCalls = undefined;
    }
    const ok = (await (await rawCall(22, 'brittle_echo', 'brittle_echo')).json()) as any;
    expect(ok.result.isError).toBeFalsy();
  });


  it('lists, calls and answers an elicitation of a session-era backend, beside a session client', async () => {
    const asked: string[] = [];
    const client = await modernClient(endpoint, { mode: 'pin', capabilities: { elicitation: { form: {} } }, asked });
    const { client: old } = await connectClient(endpoint);
    try {
      expect(client.getProtocolEra()).toBe('modern');
      expect((await client.listTools()).tools.map((t) => t.name)).toContain('ask_name');
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'through envoy' } }))).toBe('through envoy');
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(asked).toEqual(['elicitation/create']);
      expect(textOf(await old.callTool({ name: 'echo', arguments: { text: 'old' } }))).toBe('old');
    } finally {
      await Promise.all([client.close(), old.close()]);
    }
  });

  it('keeps a stateless call on the broker even where a session call would go straight to the backend', async () => {
    // A client that declares nothing: a session client's call of a native tool would be routed by Envoy
    // straight to the backend, whose answer has no resultType. The SDK refuses such a result.
    const client = await modernClient(endpoint, { mode: 'pin' });
    try {
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'plain' } }))).toBe('plain');
    } finally {
      await client.close();
    }
  });

  it('refuses a header that disagrees with the body before anything is routed, and GET with 405', async () => {
    const res = await rawCall(9, 'echo', 'ask_name');
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: -32020 });
    const get = await fetch(endpoint, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } });
    expect(get.status).toBe(405);
  });

  it('sends a call of a 2026-07-28 backend straight to its cluster, as the backend names the tool, with the client _meta', async () => {
    const client = await modernClient(endpoint, { mode: 'pin' });
    const broker = await envoyStat(envoy.adminUrl, 'cluster.broker.upstream_rq_total');
    const routed = (await envoyStat(envoy.adminUrl, `cluster.${clusterName('modern').replace('.', '_')}.upstream_rq_total`)) || 0;
    const before = modern.received.length;
    try {
      expect(textOf(await client.callTool({ name: 'modern_echo', arguments: { text: 'no broker' } }))).toBe('modern: no broker');
    } finally {
      await client.close();
    }
    expect(await envoyStat(envoy.adminUrl, 'cluster.broker.upstream_rq_total')).toBe(broker);
    expect(await envoyStat(envoy.adminUrl, `cluster.${clusterName('modern').replace('.', '_')}.upstream_rq_total`)).toBe(routed + 1);
    const got = modern.received.slice(before);
    expect(got).toHaveLength(1);
    expect(got[0]!.headers['mcp-name']).toBe('echo');
    expect(got[0]!.body.params.name).toBe('echo');
    // The client's own clientInfo: the broker would have sent the gateway's.
    expect(got[0]!.body.params._meta['io.modelcontextprotocol/clientInfo']).toMatchObject({ name: 'modern-pin' });
  });

  it("keeps envoy.yaml's per-tool rate limit on calls routed to a 2026-07-28 backend", async () => {
    const client = await modernClient(endpoint, { mode: 'pin' });
    try {
      for (let i = 0; i < 2; i++) expect(textOf(await client.callTool({ name: 'modern_weather', arguments: { region: 'north' } }))).toBe('sunny in north');
      await expect(client.callTool({ name: 'modern_weather', arguments: { region: 'north' } })).rejects.toThrow(/rate limit|429/i);
    } finally {
      await client.close();
    }
  });

  it('refuses a stateless call with a 5xx when the ext_proc service is down (fails closed)', async () => {
    await gw.extproc.stop();
    const before = modern.received.length;
    const res = await rawCall(3, 'modern_echo', 'modern_echo');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ error: { data: { code: 'GW_UNAVAILABLE' } } });
    expect(modern.received.length).toBe(before);
  });
});
