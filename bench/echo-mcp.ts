/**
 * Bench-only native MCP backends built with the official SDK, each answering at once so a measured
 * request is dominated by transport and gateway cost, not backend work. Sessions are kept per
 * `mcp-session-id`, as a real SDK server does; SDK defaults are kept (SSE replies), like most
 * deployed SDK servers.
 * - `echo`: one `echo` tool (tool calls).
 * - `docs`: one resource and one prompt (bench/docs-fixture.ts). A separate server on purpose: a
 *   backend that serves resources has its tool results rewritten by the gateway, so adding them
 *   to `echo` would change what the tool-call benches (and Envoy's direct route) measure.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../examples/backends/mcp-http.js';
import { DOC, PROMPT } from './docs-fixture.js';

function buildEcho(): McpServer {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Returns its text argument unchanged.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

function buildDocs(): McpServer {
  const server = new McpServer({ name: 'bench-docs', version: '1.0.0' });
  // The gateway's discovery asks every native backend for tools/list whatever its capabilities,
  // and keeps nothing of one that answers -32601 (the SDK's answer when no tool is registered).
  server.registerTool('doc_count', { title: 'Count documents', description: 'How many documents this server publishes.', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => ({
    content: [{ type: 'text', text: '1' }],
  }));
  server.registerResource(DOC.name, DOC.uri, { title: 'Bench guide', mimeType: DOC.mimeType }, async (uri) => ({
    contents: [{ uri: uri.href, mimeType: DOC.mimeType, text: DOC.text }],
  }));
  server.registerPrompt(
    PROMPT.name,
    { title: 'Summarize', description: 'Asks for a three-point summary of a topic.', argsSchema: { topic: z.string() } },
    ({ topic }) => ({ messages: [{ role: 'user', content: { type: 'text', text: PROMPT.render(topic) } }] }),
  );
  return server;
}

/** The echo tool server on 127.0.0.1 and a free port (path /mcp). */
export function startEchoServer(): Promise<McpHttpServer> {
  return serveMcp(buildEcho);
}

/** The docs server (one resource, one prompt) on 127.0.0.1 and a free port (path /mcp). */
export function startDocsServer(): Promise<McpHttpServer> {
  return serveMcp(buildDocs);
}
