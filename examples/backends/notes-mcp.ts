import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { closeServer, listen } from './listen.js';

/** A note-taking MCP server built with the official SDK: the example native MCP backend. */
export interface NotesServer {
  readonly url: string;
  /** Live MCP sessions on this server, by session id. */
  readonly sessions: Map<string, StreamableHTTPServerTransport>;
  /** Every session id ever initialized, in order. */
  readonly initialized: string[];
  /** Calls of count_slowly that stopped because the caller cancelled them. */
  readonly cancelled: { count: number };
  close(): Promise<void>;
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

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

/** Start the server on 127.0.0.1; the MCP endpoint is `<url>` (path /mcp). */
export async function startNotesServer(opts: { port?: number; host?: string } = {}): Promise<NotesServer> {
  const notes: string[] = [];
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const initialized: string[] = [];
  const cancelled = { count: 0 };
  const http = createServer(async (req, res) => {
    try {
      if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
      const sid = req.headers['mcp-session-id'];
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!transport) {
        const isInit = typeof body === 'object' && body !== null && (body as { method?: string }).method === 'initialize';
        if (sid !== undefined || !isInit) {
          res.writeHead(sid !== undefined ? 404 : 400, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        }
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => {
            sessions.set(id, t);
            initialized.push(id);
          },
        });
        t.onclose = () => {
          if (t.sessionId) sessions.delete(t.sessionId);
        };
        await buildServer(notes, cancelled).connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    }
  });
  const base = await listen(http, opts.port, opts.host);
  return {
    url: `${base}/mcp`,
    sessions,
    initialized,
    cancelled,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await closeServer(http);
    },
  };
}
