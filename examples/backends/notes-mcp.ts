import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer, type ServeMcpOptions } from './mcp-http.js';

/** A note-taking MCP server built with the official SDK: the example native MCP backend. */
export interface NotesServer extends McpHttpServer {
  /** Calls of count_slowly that stopped because the caller cancelled them. */
  readonly cancelled: { count: number };
}

function buildServer(notes: string[], cancelled: { count: number }): McpServer {
  const server = new McpServer({ name: 'notes', version: '1.0.0' }, { capabilities: { logging: {} } });
  server.registerTool(
    'add_note',
    { title: 'Add a note', description: 'Store a short note.', inputSchema: { text: z.string().min(1) } },
    async ({ text }) => {
      notes.push(text);
      return { content: [{ type: 'text', text: `saved note #${notes.length}` }], structuredContent: { count: notes.length } };
    },
  );
  server.registerTool(
    'list_notes',
    { title: 'List notes', description: 'All stored notes.', inputSchema: {}, annotations: { readOnlyHint: true } },
    async () => ({ content: [{ type: 'text', text: notes.join('\n') || '(no notes)' }] }),
  );
  server.registerTool(
    'count_slowly',
    {
      title: 'Count slowly',
      description: 'Counts to n, reporting progress and a log line at each step.',
      inputSchema: { n: z.number().int().min(1).max(20), delayMs: z.number().int().min(0).max(2000).optional() },
      annotations: { readOnlyHint: true },
    },
    async ({ n, delayMs }, extra) => {
      const token = extra._meta?.progressToken;
      for (let i = 1; i <= n; i++) {
        await new Promise((r) => setTimeout(r, delayMs ?? 20));
        if (extra.signal.aborted) {
          cancelled.count++;
          break;
        }
        if (token !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: i, total: n } });
        await extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: `step ${i} of ${n}` } });
      }
      return { content: [{ type: 'text', text: `counted to ${n}` }] };
    },
  );
  return server;
}

/** Start the server on 127.0.0.1; the MCP endpoint is `<url>` (path /mcp). */
export async function startNotesServer(opts: ServeMcpOptions = {}): Promise<NotesServer> {
  const notes: string[] = [];
  const cancelled = { count: 0 };
  const server = await serveMcp(() => buildServer(notes, cancelled), opts);
  return { ...server, cancelled };
}
