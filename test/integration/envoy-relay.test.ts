/**
 * Backends' requests to clients in the Envoy topology (real Envoy, envoy/envoy.yaml): the calls
 * of a client that declared sampling, elicitation or roots go through the broker, which maps the
 * ids and takes the client's answers back; calls of a client that declared none still go from
 * Envoy straight to the backend cluster. Envoy's counters tell which way each call went.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { clusterName } from '../../src/xds/clusters.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startExtProc } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

let asker: AskingServer;
let gw: RunningExtProc;
let envoy: EnvoyHandle;
let endpoint: string;

const backendCalls = (): Promise<number> => envoyStat(envoy.adminUrl, `cluster.${clusterName('asker').replace(/\./g, '_')}.upstream_rq_total`);
const textOf = (r: any): string => r.content?.[0]?.text;

beforeAll(async () => {
  asker = await startAskingServer();
  gw = await startExtProc({ backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }] });
  ({ envoy, endpoint } = await startTopologyEnvoy(gw));
  await waitFor(() => gw.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 15_000);
  await waitFor(async () => (await envoyStat(envoy.adminUrl, `cluster.${clusterName('asker').replace(/\./g, '_')}.membership_healthy`)) === 1, 'Envoy knows the backend cluster', 15_000);
}, 60_000);

afterAll(async () => {
  await envoy?.stop();
  await gw?.stop();
  await asker?.close();
});

describe('relayed requests behind Envoy', () => {
  it('a capable client: sampling and elicitation round trips through the broker, not the backend cluster', async () => {
    const client = new Client({ name: 'capable', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
    client.setRequestHandler(CreateMessageRequestSchema, async () => ({ model: 'm', role: 'assistant', content: { type: 'text', text: 'via broker' } }));
    client.setRequestHandler(ElicitRequestSchema, async () => ({ action: 'accept', content: { name: 'Envoy' } }));
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint)));
    try {
      const before = await backendCalls();
      expect(textOf(await client.callTool({ name: 'summarize', arguments: { topic: 'x' } }))).toBe('asker got: via broker (m)');
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Envoy');
      expect(await backendCalls()).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('a client that declared none of them: its calls still go straight to the backend cluster', async () => {
    const client = new Client({ name: 'plain', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(new URL(endpoint)));
    try {
      const before = await backendCalls();
      expect(textOf(await client.callTool({ name: 'echo', arguments: { text: 'direct' } }))).toBe('direct');
      expect(await backendCalls()).toBe(before + 1);
      expect((await client.listTools()).tools.map((t) => t.name)).not.toContain('summarize');
    } finally {
      await client.close();
    }
  });
});
