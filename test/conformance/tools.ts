/**
 * The tools the conformance suite's server scenarios call (`@modelcontextprotocol/conformance`
 * 0.1.16, read from each scenario's description and checks). Plain JSON schemas, not zod: the
 * json-schema-2020-12 scenario checks that `$schema`, `$defs` and `additionalProperties` reach the
 * client exactly as the server wrote them.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra, RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { CallToolResult, ElicitResult, LoggingLevel, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import { RED_PIXEL_PNG, SILENT_WAV } from './media.js';

export type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

/** What a tool body can use besides its arguments. */
export interface ToolContext {
  readonly server: Server;
  readonly extra: Extra;
  /** Sends `notifications/message` on the call's own stream when the session's level lets it through. */
  log(level: LoggingLevel, data: string): Promise<void>;
  /** Ends the call's SSE stream now; what the call sends later waits in the event store for the client's resumption. */
  closeStream(): void;
}

export interface ConformanceTool {
  readonly name: string;
  readonly description: string;
  readonly inputSchema: Record<string, unknown>;
  run(args: Record<string, unknown>, ctx: ToolContext): Promise<CallToolResult>;
}

export const NO_ARGS = { type: 'object', properties: {} };
/**
 * How long a tool waits for the client's answer to sampling or elicitation. A client answers in
 * milliseconds; the bound makes a gateway that loses the answer fail the call in seconds rather
 * than at the client's own 60 s request timeout.
 */
const CLIENT_ANSWER_TIMEOUT_MS = 10_000;
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
export const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });

/** Options of a request to the client on the call's own stream (so a gateway has to relay it back). */
export const onCallStream = (extra: Extra): RequestOptions => ({ relatedRequestId: extra.requestId, timeout: CLIENT_ANSWER_TIMEOUT_MS });

/** Asks the user for a form on the call's own stream. */
export function askUser(server: Server, extra: Extra, message: string, properties: Record<string, unknown>, required?: string[]): Promise<ElicitResult> {
  return server.elicitInput({ mode: 'form', message, requestedSchema: { type: 'object', properties: properties as never, ...(required ? { required } : {}) } }, onCallStream(extra));
}

async function elicit(ctx: ToolContext, message: string, properties: Record<string, unknown>, required?: string[]): Promise<CallToolResult> {
  const answer = await askUser(ctx.server, ctx.extra, message, properties, required);
  return text(`Elicitation completed: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
}

/**
 * The answers of the tools whose result depends on nothing (content of each kind, a tool error):
 * the session-era backend here and the 2026-07-28 backend (test/conformance-modern) serve the same.
 */
export const FIXED_RESULTS = {
  test_simple_text: { description: 'Returns one text block.', result: text('This is a simple text response for testing.') },
  test_image_content: { description: 'Returns a 1x1 PNG image.', result: { content: [{ type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' }] } },
  test_audio_content: { description: 'Returns a short silent WAV clip.', result: { content: [{ type: 'audio', data: SILENT_WAV, mimeType: 'audio/wav' }] } },
  test_embedded_resource: {
    description: 'Returns an embedded text resource.',
    result: { content: [{ type: 'resource', resource: { uri: 'test://embedded-resource', mimeType: 'text/plain', text: 'This is an embedded resource content.' } }] },
  },
  test_multiple_content_types: {
    description: 'Returns text, an image and an embedded resource.',
    result: {
      content: [
        { type: 'text', text: 'Multiple content types test:' },
        { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' },
        { type: 'resource', resource: { uri: 'test://mixed-content-resource', mimeType: 'application/json', text: JSON.stringify({ test: 'data', value: 123 }) } },
      ],
    },
  },
  test_error_handling: {
    description: 'Always fails, as a tool error result.',
    result: { isError: true, content: [{ type: 'text', text: 'This tool intentionally returns an error for testing' }] },
  },
} satisfies Record<string, { description: string; result: CallToolResult }>;

/**
 * The input schema of `json_schema_2020_12_tool`: the json-schema-2020-12 scenario checks that
 * `$schema`, `$defs` (with an `$anchor`), `additionalProperties`, `allOf`/`anyOf` and
 * `if`/`then`/`else` reach the client exactly as written (SEP-1613, SEP-2106).
 */
export const JSON_SCHEMA_2020_12 = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  type: 'object',
  $defs: { address: { $anchor: 'addressDef', type: 'object', properties: { street: { type: 'string' }, city: { type: 'string' } } } },
  properties: {
    name: { type: 'string' },
    address: { $ref: '#/$defs/address' },
    contactMethod: { type: 'string', enum: ['phone', 'email'] },
    phone: { type: 'string' },
    email: { type: 'string' },
  },
  allOf: [{ anyOf: [{ required: ['phone'] }, { required: ['email'] }] }],
  if: { properties: { contactMethod: { const: 'phone' } }, required: ['contactMethod'] },
  then: { required: ['phone'] },
  else: { required: ['email'] },
  additionalProperties: false,
};

/**
 * The tool of the http-custom-header-server-validation scenario: its `region` argument is mirrored
 * in the `Mcp-Param-Region` header by 2026-07-28 clients (SEP-2243), which servers must check.
 */
export const REGION_TOOL = {
  name: 'test_mcp_param_header',
  description: 'Echoes its region, which 2026-07-28 clients also send in the Mcp-Param-Region header (SEP-2243).',
  inputSchema: { type: 'object', properties: { region: { type: 'string', 'x-mcp-header': 'Region' } }, required: ['region'] },
  answer: (args: Record<string, unknown>): CallToolResult => text(`region=${String(args.region)}`),
};

export const TOOLS: readonly ConformanceTool[] = [
  ...Object.entries(FIXED_RESULTS).map(([name, { description, result }]) => ({ name, description, inputSchema: NO_ARGS, run: async () => result })),
  {
    name: 'test_tool_with_logging',
    description: 'Sends three info log messages while it runs.',
    inputSchema: NO_ARGS,
    run: async (_args, ctx) => {
      await ctx.log('info', 'Tool execution started');
      await sleep(50);
      await ctx.log('info', 'Tool processing data');
      await sleep(50);
      await ctx.log('info', 'Tool execution completed');
      return text('Logging tool finished after three log messages.');
    },
  },
  {
    name: 'test_tool_with_progress',
    description: 'Reports progress 0, 50 and 100 of 100 when given a progress token.',
    inputSchema: NO_ARGS,
    run: async (_args, { extra }) => {
      const progressToken = extra._meta?.progressToken;
      for (const [i, progress] of [0, 50, 100].entries()) {
        if (i > 0) await sleep(50);
        if (progressToken !== undefined) await extra.sendNotification({ method: 'notifications/progress', params: { progressToken, progress, total: 100 } });
      }
      return text('Progress tool finished.');
    },
  },
  {
    name: 'test_sampling',
    description: 'Asks the client to sample an LLM with the given prompt.',
    inputSchema: { type: 'object', properties: { prompt: { type: 'string', description: 'The prompt to send to the LLM' } }, required: ['prompt'] },
    run: async (args, ctx) => {
      const answer = await ctx.server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: String(args.prompt) } }], maxTokens: 100 }, onCallStream(ctx.extra));
      const content = Array.isArray(answer.content) ? answer.content[0] : answer.content;
      return text(`LLM response: ${content?.type === 'text' ? content.text : JSON.stringify(content)}`);
    },
  },
  {
    name: 'test_elicitation',
    description: 'Asks the user for a username and an email.',
    inputSchema: { type: 'object', properties: { message: { type: 'string', description: 'The message to show the user' } }, required: ['message'] },
    run: (args, ctx) =>
      elicit(ctx, String(args.message), {
        username: { type: 'string', description: "User's response" },
        email: { type: 'string', description: "User's email address" },
      }, ['username', 'email']),
  },
  {
    name: 'test_elicitation_sep1034_defaults',
    description: 'Elicitation whose fields all carry defaults (SEP-1034).',
    inputSchema: NO_ARGS,
    run: (_args, ctx) =>
      elicit(ctx, 'Confirm or change the defaults', {
        name: { type: 'string', default: 'John Doe' },
        age: { type: 'integer', default: 30 },
        score: { type: 'number', default: 95.5 },
        status: { type: 'string', enum: ['active', 'inactive', 'pending'], default: 'active' },
        verified: { type: 'boolean', default: true },
      }),
  },
  {
    name: 'test_elicitation_sep1330_enums',
    description: 'Elicitation with every enum shape of SEP-1330.',
    inputSchema: NO_ARGS,
    run: (_args, ctx) =>
      elicit(ctx, 'Pick some options', {
        untitledSingle: { type: 'string', enum: ['option1', 'option2', 'option3'] },
        titledSingle: { type: 'string', oneOf: [{ const: 'value1', title: 'First Option' }, { const: 'value2', title: 'Second Option' }, { const: 'value3', title: 'Third Option' }] },
        legacyEnum: { type: 'string', enum: ['opt1', 'opt2', 'opt3'], enumNames: ['Option One', 'Option Two', 'Option Three'] },
        untitledMulti: { type: 'array', items: { type: 'string', enum: ['option1', 'option2', 'option3'] } },
        titledMulti: { type: 'array', items: { anyOf: [{ const: 'value1', title: 'First Choice' }, { const: 'value2', title: 'Second Choice' }, { const: 'value3', title: 'Third Choice' }] } },
      }),
  },
  {
    name: 'json_schema_2020_12_tool',
    description: 'Tool with JSON Schema 2020-12 features',
    inputSchema: JSON_SCHEMA_2020_12,
    run: async (args) => text(`Received ${JSON.stringify(args)}`),
  },
  {
    name: 'test_reconnection',
    description: 'Closes its SSE stream mid-call (SEP-1699); the client gets the result after reconnecting with Last-Event-ID.',
    inputSchema: NO_ARGS,
    run: async (_args, ctx) => {
      // The scenario's POST says protocol 2025-03-26, so the SDK sends no priming event: one log
      // event first gives the client a Last-Event-ID to resume from.
      await ctx.extra.sendNotification({ method: 'notifications/message', params: { level: 'info', data: 'closing the stream; reconnect to get the result' } });
      ctx.closeStream();
      await sleep(100);
      return text('Reconnection test finished.');
    },
  },
];

/**
 * How often each list was changed by its server-stateless hook (test_trigger_tool_change,
 * test_trigger_prompt_change). Both conformance backends list an entry whose description carries
 * the count, so a hook really changes the list it announces (the suite's check says "Mutated the
 * prompt list"): a gateway in front, which announces the lists that changed, sees the change.
 */
export const LIST_GENERATION = { tools: 0, prompts: 0 };

/** The tool whose description follows {@link LIST_GENERATION}.tools (listed last). */
export function generationTool(): { name: string; description: string; inputSchema: typeof NO_ARGS } {
  return { name: 'test_list_generation', description: `The tools list changed ${LIST_GENERATION.tools} time(s)`, inputSchema: NO_ARGS };
}

/** The prompt whose description follows {@link LIST_GENERATION}.prompts. */
export function generationPrompt(): { name: string; description: string } {
  return { name: 'test_prompt_generation', description: `The prompts list changed ${LIST_GENERATION.prompts} time(s)` };
}
