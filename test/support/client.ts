import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitRequestSchema, ListRootsRequestSchema, type ElicitRequest, type ElicitResult } from '@modelcontextprotocol/sdk/types.js';

/** The official MCP SDK client, connected to a URL. */
export async function connectClient(url: string, name = 'test-client'): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
  const client = new Client({ name, version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url));
  await client.connect(transport);
  return { client, transport };
}

/** An SDK client that declares no capabilities; every request it is sent is recorded in `got`, then refused. */
export async function plainClient(url: string, got: string[] = []): Promise<Client> {
  const client = new Client({ name: 'plain', version: '1.0.0' });
  client.fallbackRequestHandler = async (req) => {
    got.push(req.method);
    throw new Error('not supported');
  };
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}

/**
 * An SDK client that answers what it declared: sampling with `short: <first message text>` from
 * `test-model`, roots with one project root, elicitation with `elicit`. Sampling and roots
 * requests are recorded in `asked` by method (elicitations as `elicit` records them).
 */
export async function answeringClient(
  url: string,
  capabilities: Record<string, unknown>,
  asked: string[],
  elicit: (params: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>,
): Promise<Client> {
  const client = new Client({ name: 'capable', version: '1.0.0' }, { capabilities });
  if ('sampling' in capabilities) {
    client.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      asked.push(req.method);
      const first = req.params.messages[0]?.content;
      return { model: 'test-model', role: 'assistant', content: { type: 'text', text: `short: ${first && 'text' in first ? first.text : '?'}` } };
    });
  }
  if ('elicitation' in capabilities) client.setRequestHandler(ElicitRequestSchema, async (req) => elicit(req.params));
  if ('roots' in capabilities) {
    client.setRequestHandler(ListRootsRequestSchema, async (req) => {
      asked.push(req.method);
      return { roots: [{ uri: 'file:///work/project', name: 'project' }] };
    });
  }
  await client.connect(new StreamableHTTPClientTransport(new URL(url)));
  return client;
}
