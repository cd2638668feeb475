import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';

/**
 * A real MCP SDK server whose tools ask their client things during the call: a sampling request,
 * form and URL-mode elicitations, a roots listing, and log messages at three levels. The tools
 * that need a client feature are registered only for sessions whose client declared it, as
 * servers do for conditional tools; `echo` is always there.
 */
export interface AskingServer extends McpHttpServer {
  /** Client capabilities each session's client declared at initialize, in order. */
  readonly declared: Array<Record<string, unknown>>;
  /** Errors the SDK server got instead of answers (refusals, timeouts), as messages. */
  readonly failures: string[];
  /** Answers to requests sent outside a call (on the session's GET stream), as text. */
  readonly late: string[];
}

export async function startAskingServer(name = 'asker'): Promise<AskingServer> {
  const declared: Array<Record<string, unknown>> = [];
  const failures: string[] = [];
  const late: string[] = [];
  const text = (t: string) => ({ content: [{ type: 'text' as const, text: t }] });
  const fail = (err: unknown) => {
    failures.push((err as Error).message);
    return { ...text(`failed: ${(err as Error).message}`), isError: true };
  };
  const server = await serveMcp(() => {
    const mcp = new McpServer({ name, version: '1.0.0' }, { capabilities: { logging: {} } });
    mcp.registerTool('echo', { description: 'Echoes.', inputSchema: { text: z.string() } }, async ({ text: t }) => text(t));
    mcp.registerTool('chatter', { description: 'Logs at debug, info and warning, then answers.' }, async (extra) => {
      for (const level of ['debug', 'info', 'warning'] as const) {
        await extra.sendNotification({ method: 'notifications/message', params: { level, data: `${level} message` } });
      }
      return text('done');
    });
    // Asks even when the client declared nothing: the gateway must answer in its stead.
    mcp.registerTool('force_sample', { description: 'Sends sampling/createMessage whatever the client declared.' }, async (extra) => {
      try {
        const r = await extra.sendRequest({ method: 'sampling/createMessage', params: { messages: [{ role: 'user', content: { type: 'text', text: 'hi' } }], maxTokens: 5 } }, z.object({}).passthrough());
        return text(JSON.stringify(r));
      } catch (err) {
        return fail(err);
      }
    });
    // Logs 100 ms after answering, outside the call: on the backend session's GET stream.
    mcp.registerTool('log_later', { description: 'Logs at debug and error after answering.' }, async () => {
      setTimeout(() => {
        for (const level of ['debug', 'error'] as const) void mcp.server.sendLoggingMessage({ level, data: `late ${level}` }).catch(() => undefined);
      }, 100);
      return text('later');
    });
    mcp.server.oninitialized = () => {
      const caps = (mcp.server.getClientCapabilities() ?? {}) as Record<string, any>;
      declared.push(caps);
      if (caps.sampling) {
        mcp.registerTool('summarize', { description: 'Asks the client model for a summary.', inputSchema: { topic: z.string() } }, async ({ topic }, extra) => {
          try {
            const r = await mcp.server.createMessage(
              { messages: [{ role: 'user', content: { type: 'text', text: `Summarize ${topic}` } }], maxTokens: 50 },
              { relatedRequestId: extra.requestId },
            );
            return text(`${name} got: ${r.content.type === 'text' ? r.content.text : r.content.type} (${r.model})`);
          } catch (err) {
            return fail(err);
          }
        });
      }
      if (caps.sampling) {
        // Gives up on its own request after 300 ms: the SDK sends notifications/cancelled for it.
        mcp.registerTool('impatient', { description: 'Asks the client model, but waits only 300 ms.' }, async (extra) => {
          try {
            await mcp.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'quick!' } }], maxTokens: 5 }, { relatedRequestId: extra.requestId, signal: AbortSignal.timeout(300) });
            return text('answered');
          } catch {
            return text('gave up');
          }
        });
      }
      if (caps.sampling) {
        // Asks 100 ms after answering, outside the call: on the backend session's GET stream.
        mcp.registerTool('ask_later', { description: 'Asks the client model after answering.' }, async () => {
          setTimeout(() => {
            mcp.server
              .createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Later' } }], maxTokens: 5 })
              .then((r) => late.push(r.content.type === 'text' ? r.content.text : r.content.type))
              .catch((err: Error) => failures.push(err.message));
          }, 100);
          return text('asked later');
        });
      }
      if (caps.elicitation) {
        mcp.registerTool('ask_name', { description: 'Asks the user for a name (form).' }, async (extra) => {
          try {
            const r = await mcp.server.elicitInput(
              { mode: 'form', message: 'Your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } },
              { relatedRequestId: extra.requestId },
            );
            return text(r.action === 'accept' ? `hello ${String(r.content?.name)}` : r.action);
          } catch (err) {
            return fail(err);
          }
        });
      }
      if (caps.elicitation?.url) {
        mcp.registerTool('open_link', { description: 'Asks the user to visit a URL.' }, async (extra) => {
          try {
            const r = await mcp.server.elicitInput(
              { mode: 'url', message: 'Sign in please', url: 'https://example.com/sign-in', elicitationId: 'e-1' },
              { relatedRequestId: extra.requestId },
            );
            // The user finished in the browser later: the completion comes outside the call.
            const done = mcp.server.createElicitationCompletionNotifier('e-1');
            setTimeout(() => void done().catch(() => undefined), 100);
            return text(`url ${r.action}`);
          } catch (err) {
            return fail(err);
          }
        });
      }
      if (caps.roots) {
        mcp.registerTool('list_roots', { description: 'Lists the client roots.' }, async (extra) => {
          try {
            const r = await mcp.server.listRoots(undefined, { relatedRequestId: extra.requestId });
            return text(r.roots.map((x) => x.uri).join(','));
          } catch (err) {
            return fail(err);
          }
        });
      }
    };
    return mcp;
  });
  return Object.assign(server, { declared, failures, late });
}
