/**
 * The tools (besides the MRTR ones in input-required.ts) the conformance suite's 2026-07-28 server
 * scenarios call: the content tools shared with the session-era backend, progress, and the
 * diagnostic tools of `server-stateless` and `http-custom-header-server-validation`.
 */
import { inputRequired, type ServerNotifier } from '@modelcontextprotocol/server';
import { FIXED_RESULTS, JSON_SCHEMA_2020_12, LIST_GENERATION, NO_ARGS, REGION_TOOL, text } from '../conformance/tools.js';
import type { ModernTool } from './tool.js';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A server-stateless hook: changes a list and announces it on the open `subscriptions/listen` streams. */
function trigger(name: string, list: keyof typeof LIST_GENERATION, publish: () => void): ModernTool {
  return {
    name,
    description: `Changes the ${list} list and announces it on open subscriptions/listen streams.`,
    inputSchema: NO_ARGS,
    run: async () => {
      LIST_GENERATION[list] += 1;
      publish();
      return text(`${list}/list_changed published`);
    },
  };
}

/** `notify` publishes list changes to open `subscriptions/listen` streams. */
export function modernTools(notify: () => ServerNotifier): ModernTool[] {
  return [
    // First: http-header-validation calls the first listed tool with no arguments and expects success.
    ...Object.entries(FIXED_RESULTS).map(([name, { description, result }]) => ({ name, description, inputSchema: NO_ARGS, run: async () => result })),
    {
      name: 'json_schema_2020_12_tool',
      description: 'Tool with JSON Schema 2020-12 features',
      inputSchema: JSON_SCHEMA_2020_12,
      run: async (args) => text(`Received ${JSON.stringify(args)}`),
    },
    {
      name: 'test_tool_with_progress',
      description: 'Reports progress 0, 50 and 100 of 100 when given a progress token.',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const progressToken = ctx.mcpReq._meta?.progressToken;
        for (const [i, progress] of [0, 50, 100].entries()) {
          if (i > 0) await sleep(50);
          if (progressToken !== undefined) await ctx.mcpReq.notify({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
        }
        return text('Progress tool finished.');
      },
    },
    {
      name: 'test_logging_tool',
      description: "Logs three info messages; a request without `_meta` logLevel gets none (server-stateless).",
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        for (const message of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) await ctx.mcpReq.log('info', message);
        return text('Logging tool finished.');
      },
    },
    {
      name: 'test_missing_capability',
      description: 'Needs sampling: a request that did not declare it gets -32021 (server-stateless).',
      inputSchema: NO_ARGS,
      // The SDK's MRTR seam checks each embedded request against the request's declared capabilities.
      run: async () => inputRequired({ inputRequests: { greeting: inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Say hi' } }], maxTokens: 20 }) } }),
    },
    {
      name: 'test_streaming_elicitation',
      description: 'Asks for input as an input_required result, never as a request on the stream (server-stateless).',
      inputSchema: NO_ARGS,
      run: async () =>
        inputRequired({
          inputRequests: { user_name: inputRequired.elicit({ message: 'What is your name?', requestedSchema: { type: 'object', properties: { name: { type: 'string' } } } }) },
        }),
    },
    trigger('test_trigger_tool_change', 'tools', () => notify().toolsChanged()),
    trigger('test_trigger_prompt_change', 'prompts', () => notify().promptsChanged()),
    { ...REGION_TOOL, run: async (args) => REGION_TOOL.answer(args) },
  ];
}
