/**
 * A relayed request decided by a real OPA: the policy input carries `request.kind: relay` and the
 * `relay` part (which backend asks what, during which call), and a refusal reaches the backend
 * with the policy's reason while the client is never asked.
 */
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const file = (p: string) => fileURLToPath(new URL(`../../${p}`, import.meta.url));
const textOf = (r: any): string => r.content?.[0]?.text;

let opa: OpaHandle;
let asker: AskingServer;
let gw: TestGateway;

beforeAll(async () => {
  opa = await startOpa();
  asker = await startAskingServer();
  gw = await startGateway({
    policy: { engine: 'opa', url: opa.url, listCacheMs: 0, policyFiles: [file('test/fixtures/policies/relays.rego')] },
    backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }],
    virtualServers: [{ name: 'renamed', select: { backends: ['asker'] }, rename: { summarize: 'digest' } }],
  });
  await waitFor(() => gw.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
});

afterAll(async () => {
  await gw?.stop();
  await asker?.close();
  await opa?.stop();
});

/** A client that declares sampling and elicitation, answers both, and notes which it was asked. */
async function connectAnswering(url: string, asked: string[]): Promise<Client> {
  const client = new Client({ name: 'opa-client', version: '1.0.0' }, { capabilities: { sampling: {}, elicitation: {} } });
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    asked.push('sampling');
    return { model: 'm', role: 'assistant', content: { type: 'text', text: 'no' } };
  });
  client.setRequestHandler(ElicitRequestSchema, async () => {
    asked.push('elicitation');
    return { action: 'accept', content: { name: 'Rego' } };
  });
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

describe('relayed requests decided by OPA', () => {
  it('refuses sampling with the policy reason and lets elicitation through', async () => {
    const asked: string[] = [];
    const client = await connectAnswering(gw.url, asked);
    try {
      expect(textOf(await client.callTool({ name: 'summarize', arguments: { topic: 'x' } }))).toMatch(/Denied by policy: backend asker may not sample \(during summarize\)/);
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Rego');
      expect(asked).toEqual(['elicitation']);
    } finally {
      await client.close();
    }
  });

  it('names the call in relay.tool by its catalog name on a virtual server that renamed the tool', async () => {
    // A rule on relay.tool written for /mcp must hold on an endpoint that shows the tool as `digest`.
    const asked: string[] = [];
    const client = await connectAnswering(`${gw.url}/renamed`, asked);
    try {
      expect(textOf(await client.callTool({ name: 'digest', arguments: { topic: 'x' } }))).toMatch(/Denied by policy: backend asker may not sample \(during summarize\)/);
      expect(asked).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
