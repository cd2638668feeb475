import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { closeServer, listen } from './listen.js';

/** A stateful MCP SDK server on node:http: one SDK server and transport per session. */
export interface McpHttpServer {
  /** The MCP endpoint (path /mcp). */
  readonly url: string;
  /** Live MCP sessions, by session id. */
  readonly sessions: Map<string, StreamableHTTPServerTransport>;
  /** Every session id ever initialized, in order. */
  readonly initialized: string[];
  close(): Promise<void>;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let text = '';
  for await (const chunk of req) text += chunk;
  return text ? JSON.parse(text) : undefined;
}

const isInitialize = (body: unknown): boolean => typeof body === 'object' && body !== null && (body as { method?: string }).method === 'initialize';

export interface ServeMcpOptions {
  readonly port?: number;
  readonly host?: string;
  /**
   * No sessions (the SDK's stateless mode): every POST gets a fresh server, so any instance of a
   * scaled-out backend can answer any request; GET and DELETE get 405.
   */
  readonly stateless?: boolean;
  /** Answer each POST with one JSON body once the result is ready, instead of an SSE stream. */
  readonly jsonResponse?: boolean;
}

/**
 * Serve MCP Streamable HTTP at /mcp on 127.0.0.1, as deployed SDK servers do: `initialize` opens a
 * session with a fresh server from `build`; an unknown session id gets 404 (so clients and the
 * gateway re-initialize), a request without one 400. Or statelessly (`stateless`).
 */
export async function serveMcp(build: () => McpServer, opts: ServeMcpOptions = {}): Promise<McpHttpServer> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const initialized: string[] = [];
  const http = createServer(async (req, res) => {
    try {
      if (!req.url?.startsWith('/mcp')) return void res.writeHead(404).end();
      const sid = req.headers['mcp-session-id'];
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      if (opts.stateless) {
        if (req.method !== 'POST') return void res.writeHead(405, { allow: 'POST' }).end();
        const t = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined, enableJsonResponse: opts.jsonResponse });
        res.on('close', () => void t.close());
        await build().connect(t);
        return await t.handleRequest(req, res, body);
      }
      let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!transport) {
        if (sid !== undefined || !isInitialize(body)) {
          res.writeHead(sid !== undefined ? 404 : 400, { 'content-type': 'application/json' });
          return void res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32001, message: 'Session not found' } }));
        }
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          enableJsonResponse: opts.jsonResponse,
          onsessioninitialized: (id) => {
            sessions.set(id, t);
            initialized.push(id);
          },
        });
        t.onclose = () => {
          if (t.sessionId) sessions.delete(t.sessionId);
        };
        await build().connect(t);
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
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => {});
      await closeServer(http);
    },
  };
}
