import { McpServer, ResourceTemplate } from '@modelcontextprotocol/sdk/server/mcp.js';
import { completable } from '@modelcontextprotocol/sdk/server/completable.js';
import { SubscribeRequestSchema, UnsubscribeRequestSchema } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { serveMcp } from '../../examples/backends/mcp-http.js';

/**
 * A real MCP SDK server publishing resources, a resource template, a prompt and a tool that
 * links to its resources. Two of them with different `name`s publish the same URIs and prompt
 * names, which is what the gateway must keep apart.
 */
export interface LibraryServer {
  readonly url: string;
  readonly name: string;
  /** URIs subscribed and unsubscribed, in order, as `+uri` / `-uri`. */
  readonly subscriptions: string[];
  /** resources/read requests served, by URI. */
  readonly reads: Map<string, number>;
  /** Tell every open session that a resource changed (`notifications/resources/updated`). */
  touch(uri: string): Promise<void>;
  /** Publish one more prompt, now and in later sessions (open sessions hear `prompts/list_changed`). */
  addPrompt(name: string): void;
  close(): Promise<void>;
}

export const TOPICS = ['install', 'intro', 'upgrade'];

export async function startLibraryServer(name: string): Promise<LibraryServer> {
  const subscriptions: string[] = [];
  const servers = new Set<McpServer>();
  const extraPrompts: string[] = [];
  const promptOf = (mcp: McpServer, prompt: string): void =>
    void mcp.registerPrompt(prompt, { description: `added ${prompt}` }, () => ({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }] }));
  const reads = new Map<string, number>();
  const read = (uri: string): void => void reads.set(uri, (reads.get(uri) ?? 0) + 1);
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name, version: '1.0.0' }, { capabilities: { resources: { subscribe: true } } });
    mcp.registerResource('readme', 'file:///README.md', { title: `README of ${name}`, mimeType: 'text/markdown' }, async (uri) => {
      read(uri.href);
      return { contents: [{ uri: uri.href, mimeType: 'text/markdown', text: `# ${name}` }] };
    });
    mcp.registerResource(
      'doc',
      new ResourceTemplate('file:///docs/{topic}', {
        list: undefined,
        complete: { topic: (value) => TOPICS.filter((t) => t.startsWith(value)) },
      }),
      { title: 'A document by topic', mimeType: 'text/plain' },
      async (uri, { topic }) => {
        read(uri.href);
        return { contents: [{ uri: uri.href, mimeType: 'text/plain', text: `${name} on ${String(topic)}` }] };
      },
    );
    mcp.registerPrompt(
      'summarize',
      { title: 'Summarize a document', argsSchema: { topic: completable(z.string(), (value) => TOPICS.filter((t) => t.startsWith(value))) } },
      ({ topic }) => ({
        messages: [
          { role: 'user', content: { type: 'text', text: `Summarize ${topic} (from ${name})` } },
          { role: 'user', content: { type: 'resource', resource: { uri: `file:///docs/${topic}`, mimeType: 'text/plain', text: `${name} on ${topic}` } } },
        ],
      }),
    );
    mcp.registerTool('find_doc', { description: 'Finds the document about a topic.', inputSchema: { topic: z.string() } }, async ({ topic }) => ({
      content: [
        { type: 'resource_link', uri: `file:///docs/${topic}`, name: topic, mimeType: 'text/plain' },
        { type: 'resource', resource: { uri: 'file:///README.md', mimeType: 'text/markdown', text: `# ${name}` } },
      ],
    }));
    for (const p of extraPrompts) promptOf(mcp, p);
    servers.add(mcp);
    mcp.server.onclose = () => void servers.delete(mcp);
    mcp.server.setRequestHandler(SubscribeRequestSchema, async (req) => {
      subscriptions.push(`+${req.params.uri}`);
      return {};
    });
    mcp.server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
      subscriptions.push(`-${req.params.uri}`);
      return {};
    });
    return mcp;
  });
  return {
    url: server.url,
    name,
    subscriptions,
    reads,
    async touch(uri) {
      await Promise.all([...servers].map((s) => s.server.sendResourceUpdated({ uri }).catch(() => undefined)));
    },
    addPrompt(prompt) {
      extraPrompts.push(prompt);
      for (const s of servers) promptOf(s, prompt);
    },
    close: () => server.close(),
  };
}
