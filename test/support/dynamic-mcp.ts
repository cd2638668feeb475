import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { closeServer, listen } from '../../examples/backends/listen.js';

/** A real MCP SDK server whose tool set tests can change at run time (each new session sees the current set). */
export interface DynamicMcpServer {
  readonly url: string;
  readonly toolNames: Set<string>;
  /** tools/call requests served, by tool name. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

export async function startDynamicMcpServer(initial: string[]): Promise<DynamicMcpServer> {
  const toolNames = new Set(initial);
  const calls = new Map<string, number>();
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const http = createServer(async (req, res) => {
    const sid = req.headers['mcp-session-id'];
    const body = req.method === 'POST' ? await readJson(req) : undefined;
    let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
    if (!transport) {
      if (sid !== undefined) return void res.writeHead(404).end();
      const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, t),
      });
      const server = new McpServer({ name: 'dynamic', version: '1.0.0' });
      for (const name of toolNames) {
        server.registerTool(name, { description: `tool ${name}`, inputSchema: {} }, async () => {
          calls.set(name, (calls.get(name) ?? 0) + 1);
          return { content: [{ type: 'text', text: `${name} done` }] };
        });
      }
      await server.connect(t);
      transport = t;
    }
    await transport.handleRequest(req, res, body);
  });
  const base = await listen(http);
  return {
    url: `${base}/mcp`,
    toolNames,
    calls,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await closeServer(http);
    },
  };
}
