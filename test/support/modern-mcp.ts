import { createServer, type IncomingHttpHeaders } from 'node:http';
import { acceptedContent, createMcpHandler, inputRequired, inputResponse, McpServer } from '@modelcontextprotocol/server';
import { z } from 'zod';
import { closeServer, listen } from '../../examples/backends/listen.js';

/**
 * A real MCP server written with `@modelcontextprotocol/server` 2.4 that serves ONLY the
 * stateless era (2026-07-28, `legacy: 'reject'`): no `initialize`, no sessions. Its tools ask
 * their client things the stateless way, with `input_required` results (MRTR): a form
 * elicitation, a sampling request, a roots listing, and two rounds in one call. Every request it
 * receives is recorded with its headers and body, so tests can see what the gateway sent.
 */
export interface ModernServer {
  /** The MCP endpoint (path /mcp). */
  readonly url: string;
  /** Every POST received: its headers and JSON body, in order. */
  readonly received: Array<{ readonly headers: IncomingHttpHeaders; readonly body: any }>;
  /** Tool calls whose request was closed before the tool answered (the stateless era's cancellation). */
  readonly cancelled: string[];
  /** Add an echo-like tool and announce it on open `subscriptions/listen` streams. */
  addTool(name: string): void;
  /** Announce that a resource changed, to the `subscriptions/listen` streams subscribed to it. */
  updated(uri: string): void;
  close(): Promise<void>;
}

const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });

function build(name: string, cancelled: string[], added: readonly string[], resources: boolean): McpServer {
  const mcp = new McpServer({ name, version: '2.0.0' }, { capabilities: { logging: {}, ...(resources ? { resources: { subscribe: true } } : {}) } });
  for (const tool of added) mcp.registerTool(tool, { description: 'Added later.' }, async () => text(`${name}: ${tool}`));
  mcp.registerTool('echo', { description: 'Echoes.', inputSchema: z.object({ text: z.string() }) }, async ({ text: t }) => text(`${name}: ${t}`));
  // Its region is mirrored into Mcp-Param-Region: the SDK refuses the call (-32020) when the header is missing or differs.
  mcp.registerTool(
    'weather',
    { description: 'Weather in a region.', inputSchema: z.object({ region: z.string().meta({ 'x-mcp-header': 'Region' }), days: z.number().int().optional() }) },
    async ({ region }) => text(`sunny in ${region}`),
  );
  mcp.registerTool('ask_name', { description: 'Asks the user for a name (form).' }, async (ctx) => {
    const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name', z.object({ name: z.string() }));
    if (!answer) return inputRequired({ inputRequests: { name: inputRequired.elicit({ message: 'Your name?', requestedSchema: z.object({ name: z.string() }) }) } });
    return text(`hello ${answer.name}`);
  });
  mcp.registerTool('summarize', { description: 'Asks the client model for a summary.', inputSchema: z.object({ topic: z.string() }) }, async ({ topic }, ctx) => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'summary');
    if (view.kind !== 'sampling') {
      return inputRequired({ inputRequests: { summary: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: `Summarize ${topic}` } }], maxTokens: 50 }) } });
    }
    const r = view.result as { content: { type: string; text?: string }; model: string };
    return text(`${name} got: ${r.content.text ?? r.content.type} (${r.model})`);
  });
  mcp.registerTool('list_roots', { description: 'Lists the client roots.' }, async (ctx) => {
    const view = inputResponse(ctx.mcpReq.inputResponses, 'roots');
    if (view.kind !== 'roots') return inputRequired({ inputRequests: { roots: inputRequired.listRoots() } });
    return text(view.roots.map((r) => r.uri).join(','));
  });
  // Two rounds: a name, then (with the name carried in requestState) a confirmation.
  mcp.registerTool('sign_up', { description: 'Asks a name, then a confirmation.' }, async (ctx) => {
    const state = ctx.mcpReq.requestState<string>();
    if (state === undefined) {
      const answer = acceptedContent(ctx.mcpReq.inputResponses, 'name', z.object({ name: z.string() }));
      if (!answer) return inputRequired({ inputRequests: { name: inputRequired.elicit({ message: 'Your name?', requestedSchema: z.object({ name: z.string() }) }) } });
      return inputRequired({ inputRequests: { confirm: inputRequired.elicit({ message: `Sign up ${answer.name}?`, requestedSchema: z.object({ ok: z.boolean() }) }) }, requestState: `name=${answer.name}` });
    }
    const ok = acceptedContent(ctx.mcpReq.inputResponses, 'confirm', z.object({ ok: z.boolean() }));
    return text(ok?.ok ? `signed up ${state.slice('name='.length)}` : 'not signed up');
  });
  mcp.registerTool('wait', { description: 'Waits until its request is closed.' }, async (ctx) => {
    await new Promise<void>((resolve) => ctx.mcpReq.signal.addEventListener('abort', () => resolve(), { once: true }));
    cancelled.push(String(ctx.mcpReq.id));
    return text('never seen');
  });
  if (resources) mcp.registerResource('today', 'notes://today', { mimeType: 'text/plain' }, async (uri) => ({ contents: [{ uri: uri.href, text: `${name} notes` }] }));
  mcp.registerPrompt('greet', { description: 'A greeting.', argsSchema: z.object({ who: z.string() }) }, async ({ who }) => ({
    messages: [{ role: 'user' as const, content: { type: 'text' as const, text: `Greet ${who}` } }],
  }));
  return mcp;
}

/**
 * Serve the modern-only server on a free loopback port. `resources: false` serves no resource:
 * the gateway then has no URIs to rewrite in its answers, so Envoy may route its calls straight to it.
 */
export async function startModernServer(name = 'modern', opts: { resources?: boolean } = {}): Promise<ModernServer> {
  const received: ModernServer['received'] = [];
  const cancelled: string[] = [];
  const added: string[] = [];
  const handler = createMcpHandler(() => build(name, cancelled, added, opts.resources ?? true), { legacy: 'reject' });
  const http = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks);
    if (req.method === 'POST') {
      let body: unknown;
      try {
        body = JSON.parse(raw.toString('utf8'));
      } catch {
        body = raw.toString('utf8');
      }
      received.push({ headers: req.headers, body });
    }
    // The client closing its request is the stateless era's cancellation: the handler sees it as an abort.
    const closed = new AbortController();
    res.on('close', () => closed.abort());
    const headers = new Headers();
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers.set(k, Array.isArray(v) ? v.join(', ') : v);
    const request = new Request(`http://127.0.0.1${req.url ?? '/'}`, { method: req.method, headers, signal: closed.signal, ...(req.method === 'POST' ? { body: raw } : {}) });
    try {
      const response = await handler.fetch(request);
      res.writeHead(response.status, Object.fromEntries(response.headers));
      if (response.body) for await (const chunk of response.body) res.write(chunk);
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    }
  });
  const base = await listen(http);
  return {
    url: `${base}/mcp`,
    received,
    cancelled,
    addTool(tool) {
      added.push(tool);
      handler.notify.toolsChanged();
    },
    updated(uri) {
      handler.notify.resourceUpdated(uri);
    },
    async close() {
      await handler.close();
      await closeServer(http);
    },
  };
}
