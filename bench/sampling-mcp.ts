/**
 * An MCP SDK server whose one tool asks the client model once (`sampling/createMessage`, on the
 * call's stream) and answers with what the client said: the backend of `npm run bench:relay`.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcp, type McpHttpServer } from '../examples/backends/mcp-http.js';

export function startSamplingServer(): Promise<McpHttpServer> {
  return serveMcp(() => {
    const mcp = new McpServer({ name: 'sampler', version: '1.0.0' });
    mcp.registerTool('sample', { description: 'Asks the client model once.' }, async (extra) => {
      const r = await mcp.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 }, { relatedRequestId: extra.requestId });
      return { content: [{ type: 'text', text: r.content.type === 'text' ? r.content.text : '' }] };
    });
    return mcp;
  });
}
