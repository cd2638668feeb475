/**
 * The bench's 2026-07-28 backend: the official `@modelcontextprotocol/server` 2.4 serving the
 * stateless era only (no `initialize`, no sessions), with the same `echo` tool as bench/echo-mcp.ts
 * and nothing else (a backend serving resources would have its results rewritten by the gateway,
 * which keeps its calls on the broker). Served on node:http like the tests' modern backends.
 */
import { createServer } from 'node:http';
import { createMcpHandler, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { closeServer, listen } from '../examples/backends/listen.js';
import { serveFetch } from '../test/support/fetch-handler.js';

function buildEcho(): McpServer {
  const server = new McpServer({ name: 'bench-stateless-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { title: 'Echo', description: 'Returns its text argument unchanged.', inputSchema: z.object({ text: z.string() }), annotations: { readOnlyHint: true } },
    async ({ text }) => ({ content: [{ type: 'text' as const, text }] }),
  );
  return server;
}

/** The stateless echo server on 127.0.0.1 and a free port (path /mcp). */
export async function startStatelessEchoServer(): Promise<{ url: string; close: () => Promise<void> }> {
  const handler = createMcpHandler(buildEcho, { legacy: 'reject' });
  const http = createServer((req, res) => void serveFetch((r) => handler.fetch(r), req, res).catch(() => res.destroy()));
  const base = await listen(http);
  return {
    url: `${base}/mcp`,
    async close() {
      await handler.close();
      await closeServer(http);
    },
  };
}
