/**
 * The MCP server the conformance suite's 2026-07-28 server scenarios expect, written with the
 * official 2.x SDK (`@modelcontextprotocol/server`) and serving ONLY 2026-07-28: `server/discover`,
 * `_meta` on every request, header validation, `input_required` results, `subscriptions/listen`,
 * caching hints. The SDK's `createMcpHandler` owns the wire rules; this file supplies the tools,
 * resources and prompts, and serves the handler on node:http with a DNS-rebinding check. The
 * conformance-modern test runs the suite against it directly and through the gateway, so every
 * difference is the gateway's.
 */
import { createServer } from 'node:http';
import {
  createMcpHandler,
  fromJsonSchema,
  McpServer,
  ProtocolError,
  ResourceNotFoundError,
  type McpHttpHandler,
  type ServerContext,
  type ServerNotifier,
} from '@modelcontextprotocol/server';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { completion, promptContent, PROMPTS, readContent, RESOURCES, TEMPLATE } from '../conformance/content.js';
import { fromThisMachine } from '../conformance/local-host.js';
import { serveFetch } from '../support/fetch-handler.js';
import { INPUT_REQUIRED_PROMPT, inputRequiredPrompt, inputRequiredTools, stateCodec } from './input-required.js';
import type { ModernTool } from './tool.js';
import { modernTools } from './tools.js';
import { generationPrompt, generationTool } from '../conformance/tools.js';

export interface ModernConformanceBackend {
  /** The MCP endpoint, `http://127.0.0.1:<port>/mcp`. */
  readonly url: string;
  close(): Promise<void>;
}

/** -32602 Invalid params: an unknown tool or prompt (the 2026-07-28 code for a bad name). */
const INVALID_PARAMS = -32602;

/**
 * One SDK server per request (createMcpHandler asks the factory for each). Tools go through
 * McpServer: the SDK checks `Mcp-Param-*` headers against the `x-mcp-header` declarations of
 * registered tools only. The rest is installed on its low-level Server.
 */
function buildServer(tools: readonly ModernTool[], verify: (state: string, ctx: ServerContext) => Promise<unknown>): McpServer {
  const mcp = new McpServer(
    { name: 'conformance-modern-backend', version: '1.0.0' },
    { capabilities: { tools: { listChanged: true }, logging: {} }, requestState: { verify } },
  );
  for (const tool of tools) {
    // fromJsonSchema: the schema is listed exactly as written (no zod round trip).
    mcp.registerTool(tool.name, { description: tool.description, inputSchema: fromJsonSchema(tool.inputSchema as never) }, (args, ctx) =>
      tool.run((args ?? {}) as Record<string, unknown>, ctx) as never,
    );
  }
  // Listed last (http-header-validation calls the first tool): changes with each test_trigger_tool_change.
  const listed = generationTool();
  mcp.registerTool(listed.name, { description: listed.description, inputSchema: fromJsonSchema(listed.inputSchema as never) }, () => ({ content: [{ type: 'text', text: listed.description }] }));
  const server = mcp.server;
  server.registerCapabilities({ resources: { listChanged: false }, prompts: { listChanged: true }, completions: {} });
  server.setRequestHandler('resources/list', async () => ({ resources: RESOURCES }));
  server.setRequestHandler('resources/templates/list', async () => ({ resourceTemplates: [TEMPLATE] }));
  server.setRequestHandler('resources/read', async (req) => {
    const found = readContent(req.params.uri);
    // SEP-2164: -32602 with the URI in `data` (the SDK's ResourceNotFoundError).
    if (!found) throw new ResourceNotFoundError(req.params.uri);
    return found;
  });
  server.setRequestHandler('prompts/list', async () => ({
    prompts: [...PROMPTS, INPUT_REQUIRED_PROMPT, generationPrompt()],
  }));
  server.setRequestHandler('prompts/get', async (req, ctx) => {
    if (req.params.name === INPUT_REQUIRED_PROMPT.name) return inputRequiredPrompt(ctx);
    const found = promptContent(req.params.name, req.params.arguments ?? {});
    if (!found) throw new ProtocolError(INVALID_PARAMS, `Unknown prompt: ${req.params.name}`);
    return found;
  });
  server.setRequestHandler('completion/complete', async (req) => completion(req.params.argument.name, req.params.argument.value));
  return mcp;
}

/** Start the backend on a free loopback port. */
export async function startModernConformanceBackend(): Promise<ModernConformanceBackend> {
  const codec = stateCodec();
  let handler: McpHttpHandler | undefined;
  const notify = (): ServerNotifier => {
    if (!handler) throw new Error('the handler is not built yet');
    return handler.notify;
  };
  const tools = [...modernTools(notify), ...inputRequiredTools(codec)];
  // `legacy: 'reject'`: a modern-only backend, so a gateway has to speak 2026-07-28 to it.
  handler = createMcpHandler(() => buildServer(tools, (state, ctx) => codec.verify(state, ctx)), { legacy: 'reject' });
  const mcp = handler;
  const http = createServer((req, res) => {
    const refuse = (status: number, message: string): void => {
      res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32600, message } }));
    };
    if (!req.url?.startsWith('/mcp')) return refuse(404, 'Not found');
    if (!fromThisMachine(req)) return refuse(403, 'Host or Origin is not this machine');
    serveFetch(mcp.fetch, req, res).catch((err: unknown) => {
      if (!res.headersSent) refuse(500, String(err));
      else res.destroy();
    });
  });
  const base = await listen(http);
  return {
    url: `${base}/mcp`,
    async close() {
      await mcp.close();
      await closeServer(http);
    },
  };
}
