import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';

/**
 * A real MCP SDK server whose `hold` tool keeps every call open until the test releases them: a
 * test can then know that calls were open together, however fast or slow the machine admits them,
 * instead of hoping they overlap in time.
 */
export interface HoldingServer extends McpHttpServer {
  /** Calls of `hold` that have started and wait for {@link release}. */
  readonly holding: () => number;
  /** Let every held call (and every later one) answer. */
  release(): void;
}

export async function startHoldingServer(): Promise<HoldingServer> {
  let holding = 0;
  let release!: () => void;
  const released = new Promise<void>((r) => (release = r));
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name: 'holder', version: '1.0.0' });
    mcp.registerTool('hold', { description: 'Reports progress, then answers once released.', annotations: { readOnlyHint: true } }, async (extra) => {
      // The answer is streaming (SSE) from here on, as a long tool call's is.
      const token = extra._meta?.progressToken;
      if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: 1, total: 2 } });
      holding++;
      await released;
      holding--;
      return { content: [{ type: 'text', text: 'released' }] };
    });
    return mcp;
  });
  return { ...server, holding: () => holding, release };
}
