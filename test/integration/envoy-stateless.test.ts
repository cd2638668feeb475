/**
 * A stateless (2026-07-28) client through the real Envoy topology: envoy/envoy.yaml in front of
 * the gateway process (ext_proc, broker, xDS), a session-era SDK 1.x backend behind, the official
 * 2.4 client pinned to 2026-07-28 in front. ext_proc admits it (headers checked against the body)
 * and hands it to the broker, which bridges it to the backend: lists, calls, and an elicitation
 * the backend asks during a call, answered over `input_required`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { startTopologyEnvoy } from '../harness/topology-envoy.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { connectClient } from '../support/client.js';
import { MCP_HEADERS, startExtProc } from '../support/gateway.js';
import { modernClient } from '../support/stateless-client.js';
import { waitFor } from '../support/wait.js';

const textOf = (r: any): string => r.content?.[0]?.text;

let asker: AskingServer;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;

beforeAll(async () => {
  asker = await startAskingServer();
  gw = await startExtProc({ backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }] });
  ({ envoy, endpoint } = await startTopologyEnvoy(gw));
  await waitFor(() => gw.core.catalog.current().tools.has('ask_name'), 'the backend tools discovered', 15_000);
});

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await asker?.close();
});

describe('a stateless client through Envoy', () => {
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
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'ask_name' },
      body: JSON.stringify({
        jsonrpc: '2.0',
        id: 9,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'x' }, _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {} } },
      }),
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: unknown }).error).toMatchObject({ code: -32020 });
    const get = await fetch(endpoint, { headers: { accept: 'text/event-stream', 'mcp-protocol-version': '2026-07-28' } });
    expect(get.status).toBe(405);
  });
});
