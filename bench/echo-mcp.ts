/**
 * A bench-only native MCP backend built with the official SDK: one `echo` tool that answers at
 * once, so a measured `tools/call` is dominated by transport and gateway cost, not tool work.
 * Sessions are kept per `mcp-session-id`, as a real SDK server does.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp } from '../examples/backends/mcp-http.js';

export interface EchoServer {
  /** The MCP endpoint (path /mcp). */
  readonly url: string;
  close(): Promise<void>;
}

function buildServer(): McpServer {
  const server = new McpServer({ name: 'bench-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Returns its text argument unchanged.', inputSchema: { text: z.string() }, annotations: { readOnlyHint: true } },
    async ({ text }) => ({ content: [{ type: 'text', text }] }),
  );
  return server;
}

/** Start on 127.0.0.1 and a free port. SDK defaults are kept (SSE replies), like most deployed SDK servers. */
export async function startEchoServer(): Promise<EchoServer> {
  return serveMcp(buildServer);
}
