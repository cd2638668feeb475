import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcp } from '../../examples/backends/mcp-http.js';

/** A real MCP SDK server whose tool set tests can change at run time (each new session sees the current set). */
export interface DynamicMcpServer {
  readonly url: string;
  readonly toolNames: Set<string>;
  /** Descriptions by tool name (default `tool <name>`): a change is what a rug-pulling backend does. */
  readonly descriptions: Map<string, string>;
  /** tools/call requests served, by tool name. */
  readonly calls: Map<string, number>;
  close(): Promise<void>;
}

export async function startDynamicMcpServer(initial: string[]): Promise<DynamicMcpServer> {
  const toolNames = new Set(initial);
  const calls = new Map<string, number>();
  const descriptions = new Map<string, string>();
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name: 'dynamic', version: '1.0.0' });
    for (const name of toolNames) {
      mcp.registerTool(name, { description: descriptions.get(name) ?? `tool ${name}`, inputSchema: {} }, async () => {
        calls.set(name, (calls.get(name) ?? 0) + 1);
        return { content: [{ type: 'text', text: `${name} done` }] };
      });
    }
    return mcp;
  });
  return { url: server.url, toolNames, descriptions, calls, close: () => server.close() };
}
