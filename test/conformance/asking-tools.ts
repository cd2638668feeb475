/**
 * What the conformance suite's 2026-07-28 server scenarios call (`input-required-result-*`,
 * `server-stateless`, `http-custom-header-server-validation`), written the session-era way for the
 * SDK 1.x backend: where the modern backend (test/conformance-modern) returns an `input_required`
 * result, these tools send real `elicitation/create`, `sampling/createMessage` and `roots/list`
 * requests on the call's stream and wait for the answers. A gateway bridging a stateless client
 * to this backend must turn those requests into `input_required` rounds and resume the held call
 * with the client's `inputResponses`, so the same scenarios pass through the bridge.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { CallToolResult, CreateMessageResult, GetPromptResult } from '@modelcontextprotocol/sdk/types.js';
import type { AskingPrompt } from './content.js';
import { askUser, generationPrompt, LIST_GENERATION, NO_ARGS, onCallStream, REGION_TOOL, text, type ConformanceTool, type Extra } from './tools.js';

const NAME = { name: { type: 'string' } };
const CONFIRM = { ok: { type: 'boolean' } };

function sample(server: Server, extra: Extra, prompt: string, maxTokens: number): Promise<CreateMessageResult> {
  return server.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: prompt } }], maxTokens }, onCallStream(extra)) as Promise<CreateMessageResult>;
}

const sampledText = (r: CreateMessageResult): string => (r.content.type === 'text' ? r.content.text : JSON.stringify(r.content));

async function rootUris(server: Server, extra: Extra): Promise<string> {
  const { roots } = await server.listRoots(undefined, onCallStream(extra));
  return roots.map((r) => r.uri).join(', ') || '(none)';
}

/** Asks for a confirmation; the retry's `requestState` is the gateway's to seal and check, not this backend's. */
async function confirm(server: Server, extra: Extra): Promise<CallToolResult> {
  const answer = await askUser(server, extra, 'Please confirm', CONFIRM, ['ok']);
  return text(`state-ok: action=${answer.action}, confirmed=${String(answer.content?.ok)}`);
}

/** A server-stateless hook: announces that a list changed (a notification on the session). */
/**
 * The servers of every open session: a list change concerns every client of the backend, so it is
 * announced on every session, as a server shared by its sessions would (the gateway hears it on
 * the session it holds to watch the backend).
 */
export const OPEN_SERVERS = new Set<Server>();

function trigger(name: string, list: keyof typeof LIST_GENERATION, send: (server: Server) => Promise<void>): ConformanceTool {
  return {
    name,
    description: `Changes the ${list} list and announces it (notifications/${list}/list_changed) on every session.`,
    inputSchema: NO_ARGS,
    run: async () => {
      LIST_GENERATION[list] += 1;
      await Promise.all([...OPEN_SERVERS].map((s) => send(s).catch(() => undefined)));
      return text(`${list}/list_changed sent`);
    },
  };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export const ASKING_TOOLS: readonly ConformanceTool[] = [
  {
    name: 'test_input_required_result_elicitation',
    description: 'Asks for the user name (elicitation/create), then greets.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => {
      const answer = await askUser(server, extra, 'What is your name?', NAME, ['name']);
      return text(`Hello, ${String(answer.content?.name)}! (${answer.action})`);
    },
  },
  {
    name: 'test_input_required_result_sampling',
    description: 'Asks the client to sample an LLM (sampling/createMessage).',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => text(`LLM response: ${sampledText(await sample(server, extra, 'What is the capital of France?', 100))}`),
  },
  {
    name: 'test_input_required_result_list_roots',
    description: "Asks for the client's roots (roots/list).",
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => text(`Client roots: ${await rootUris(server, extra)}`),
  },
  {
    name: 'test_input_required_result_request_state',
    description: 'Asks for a confirmation.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => confirm(server, extra),
  },
  {
    name: 'test_input_required_result_tampered_state',
    description: 'Asks for a confirmation.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => confirm(server, extra),
  },
  {
    name: 'test_input_required_result_multiple_inputs',
    description: 'Asks for an elicitation, a sampling and the roots at once (three requests outstanding together).',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => {
      const [answer, greeting, roots] = await Promise.all([
        askUser(server, extra, 'What is your name?', NAME, ['name']),
        sample(server, extra, 'Generate a greeting', 50),
        rootUris(server, extra),
      ]);
      return text(`${sampledText(greeting)} ${String(answer.content?.name)} (roots: ${roots})`);
    },
  },
  {
    name: 'test_input_required_result_multi_round',
    description: 'Asks for a name, then, once answered, for a favourite colour.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => {
      const name = await askUser(server, extra, 'Step 1: What is your name?', NAME, ['name']);
      const color = await askUser(server, extra, 'Step 2: What is your favorite color?', { color: { type: 'string' } }, ['color']);
      return text(`${String(name.content?.name)} likes ${String(color.content?.color)}`);
    },
  },
  {
    name: 'test_input_required_result_capabilities',
    description: 'Asks for each kind of input the session declared; a kind the caller cannot answer is refused and skipped.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => {
      const can = server.getClientCapabilities() ?? {};
      const asked = await Promise.allSettled([
        can.sampling ? sample(server, extra, 'Generate a greeting', 50).then(() => 'sampling') : Promise.reject(new Error('undeclared')),
        can.elicitation ? askUser(server, extra, 'What is your name?', NAME).then(() => 'elicitation') : Promise.reject(new Error('undeclared')),
        can.roots ? rootUris(server, extra).then(() => 'roots') : Promise.reject(new Error('undeclared')),
      ]);
      const answered = asked.flatMap((a) => (a.status === 'fulfilled' ? [a.value] : []));
      return text(`Answered: ${answered.join(', ') || 'nothing'}`);
    },
  },
  {
    name: 'test_missing_capability',
    description: 'Needs sampling (sampling/createMessage); a caller without it must be refused.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => text(`LLM response: ${sampledText(await sample(server, extra, 'Say hi', 20))}`),
  },
  {
    name: 'test_streaming_elicitation',
    description: 'Asks for the user name (elicitation/create) while the call runs.',
    inputSchema: NO_ARGS,
    run: async (_args, { server, extra }) => {
      const answer = await askUser(server, extra, 'What is your name?', NAME);
      return text(`Hello, ${String(answer.content?.name)}!`);
    },
  },
  {
    name: 'test_logging_tool',
    description: 'Logs three info messages at the session level (notifications/message).',
    inputSchema: NO_ARGS,
    run: async (_args, ctx) => {
      for (const message of ['Tool execution started', 'Tool processing data', 'Tool execution completed']) {
        await ctx.log('info', message);
        await sleep(20);
      }
      return text('Logging tool finished.');
    },
  },
  trigger('test_trigger_tool_change', 'tools', (server) => server.sendToolListChanged()),
  trigger('test_trigger_prompt_change', 'prompts', (server) => server.sendPromptListChanged()),
  { ...REGION_TOOL, run: async (args) => REGION_TOOL.answer(args) },
];

/** A prompt whose `prompts/get` asks the user first (input is not only for tools). */
export const ASKING_PROMPT: AskingPrompt = {
  definition: { name: 'test_input_required_result_prompt', description: 'A prompt that first asks the user for its context.' },
  async get(server: Server, extra: Extra): Promise<GetPromptResult> {
    const answer = await askUser(server, extra, 'What context should the prompt use?', { context: { type: 'string' } }, ['context']);
    return { messages: [{ role: 'user', content: { type: 'text', text: `Answer with this context in mind: ${String(answer.content?.context)}` } }] };
  },
};

/** The prompt that test_trigger_prompt_change changes (its description counts the changes). */
export const GENERATION_PROMPT: AskingPrompt = {
  get definition() {
    return generationPrompt();
  },
  async get(): Promise<GetPromptResult> {
    return { messages: [{ role: 'user', content: { type: 'text', text: generationPrompt().description } }] };
  },
};
