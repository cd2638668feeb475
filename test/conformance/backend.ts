/**
 * The MCP server the conformance suite's server scenarios expect (the "everything" server of
 * `@modelcontextprotocol/conformance`), written here from the scenarios' descriptions with the
 * official SDK: stateful Streamable HTTP sessions on node:http, resumable SSE streams, Host/Origin
 * checks against DNS rebinding. The conformance test runs the suite against it directly and
 * through the gateway, so every difference is the gateway's.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import {
  CallToolRequestSchema,
  ErrorCode,
  ListToolsRequestSchema,
  LoggingLevelSchema,
  McpError,
  SetLevelRequestSchema,
  type LoggingLevel,
} from '@modelcontextprotocol/sdk/types.js';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { ASKING_PROMPT, ASKING_TOOLS, GENERATION_PROMPT, OPEN_SERVERS } from './asking-tools.js';
import { CONTENT_CAPABILITIES, installContent } from './content.js';
import { MemoryEventStore } from './event-store.js';
import { fromThisMachine } from './local-host.js';
import { generationTool, TOOLS } from './tools.js';

export interface ConformanceBackend {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  close(): Promise<void>;
}

const SEVERITY = LoggingLevelSchema.options;

/** The session-era scenarios' tools, and the 2026-07-28 scenarios' ones asked the session-era way. */
const ALL_TOOLS = [...TOOLS, ...ASKING_TOOLS];

/** One SDK server per session; `transport` is the session's, for closing a call's stream. */
function buildServer(transport: StreamableHTTPServerTransport): Server {
  const server = new Server(
    { name: 'conformance-backend', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, logging: {}, ...CONTENT_CAPABILITIES } },
  );
  // Replaces the SDK's own logging/setLevel handler: tool logs go on the call's own stream
  // (extra.sendNotification), which the SDK's level filter does not cover.
  let level: LoggingLevel = 'debug';
  server.setRequestHandler(SetLevelRequestSchema, async (req) => {
    level = req.params.level;
    return {};
  });
  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...ALL_TOOLS, generationTool()].map(({ name, description, inputSchema }) => ({ name, description, inputSchema: inputSchema as never })),
  }));
  server.setRequestHandler(CallToolRequestSchema, async (req, extra) => {
    const tool = ALL_TOOLS.find((t) => t.name === req.params.name);
    if (!tool) throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${req.params.name}`);
    const log = async (at: LoggingLevel, data: string): Promise<void> => {
      if (SEVERITY.indexOf(at) >= SEVERITY.indexOf(level)) await extra.sendNotification({ method: 'notifications/message', params: { level: at, data } });
    };
    return tool.run(req.params.arguments ?? {}, { server, extra, log, closeStream: () => transport.closeSSEStream(extra.requestId) });
  });
  installContent(server, [ASKING_PROMPT, GENERATION_PROMPT]);
  return server;
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  let body = '';
  for await (const chunk of req) body += chunk;
  return body ? JSON.parse(body) : undefined;
}

const isInitialize = (body: unknown): boolean => typeof body === 'object' && body !== null && (body as { method?: unknown }).method === 'initialize';

/** Start the backend on a free loopback port. */
export async function startConformanceBackend(): Promise<ConformanceBackend> {
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  const reply = (res: ServerResponse, status: number, message: string): void => {
    res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message } }));
  };
  const http = createServer(async (req, res) => {
    try {
      if (!req.url?.startsWith('/mcp')) return reply(res, 404, 'Not found');
      if (!fromThisMachine(req)) return reply(res, 403, 'Host or Origin is not this machine');
      const body = req.method === 'POST' ? await readJson(req) : undefined;
      const sid = req.headers['mcp-session-id'];
      let transport = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (!transport) {
        if (sid !== undefined) return reply(res, 404, 'Session not found');
        if (!isInitialize(body)) return reply(res, 400, 'Bad Request: no session id');
        const t: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          eventStore: new MemoryEventStore(),
          retryInterval: 100,
          onsessioninitialized: (id) => void sessions.set(id, t),
        });
        const server = buildServer(t);
        t.onclose = () => {
          if (t.sessionId) sessions.delete(t.sessionId);
          OPEN_SERVERS.delete(server);
        };
        OPEN_SERVERS.add(server);
        await server.connect(t);
        transport = t;
      }
      await transport.handleRequest(req, res, body);
    } catch (err) {
      if (!res.headersSent) reply(res, err instanceof SyntaxError ? 400 : 500, String(err));
    }
  });
  const base = await listen(http);
  return {
    url: `${base}/mcp`,
    async close() {
      for (const t of sessions.values()) await t.close().catch(() => undefined);
      await closeServer(http);
    },
  };
}
