/**
 * The multi-round-trip (MRTR, SEP-2322) tools and prompt the conformance suite's
 * `input-required-result-*` scenarios call (`@modelcontextprotocol/conformance` 0.2.0-alpha.12),
 * written with the 2.x SDK's `inputRequired` builders: a round without the answers it needs
 * returns `input_required`; the client's retry carries `inputResponses` (and the `requestState`
 * it was given), and the handler runs again from the top. Nothing is held between rounds: what
 * a later round must know travels in `requestState`, sealed with the SDK's HMAC codec so a
 * tampered state is refused before the handler runs.
 */
import {
  CLIENT_CAPABILITIES_META_KEY,
  createRequestStateCodec,
  inputRequired,
  inputResponse,
  type ClientCapabilities,
  type GetPromptResult,
  type InputRequest,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';
import { randomBytes } from 'node:crypto';
import { NO_ARGS, text } from '../conformance/tools.js';
import type { ModernTool } from './tool.js';

/** What a round's `requestState` carries: the tool it belongs to and what earlier rounds learned. */
interface RoundState {
  readonly tool: string;
  readonly step: number;
  readonly learned?: Record<string, unknown>;
}

/** One codec per backend: a random key is enough, one process serves every round. */
export function stateCodec(): RequestStateCodec<RoundState> {
  return createRequestStateCodec<RoundState>({ key: randomBytes(32), ttlSeconds: 600 });
}

const askName = (message: string): InputRequest =>
  inputRequired.elicit({ message, requestedSchema: { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] } });
const askConfirm = (): InputRequest =>
  inputRequired.elicit({ message: 'Please confirm', requestedSchema: { type: 'object', properties: { ok: { type: 'boolean' } }, required: ['ok'] } });
const askCapital = (): InputRequest =>
  inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'What is the capital of France?' } }], maxTokens: 100 });
const askGreeting = (): InputRequest =>
  inputRequired.createMessage({ messages: [{ role: 'user', content: { type: 'text', text: 'Generate a greeting' } }], maxTokens: 50 });

/** The accepted elicitation content for `key`, or undefined (missing, declined, or not an elicitation answer). */
function accepted(ctx: ServerContext, key: string): Record<string, unknown> | undefined {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  return view.kind === 'elicit' && view.action === 'accept' ? (view.content ?? {}) : undefined;
}

function samplingText(ctx: ServerContext, key: string): string | undefined {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  if (view.kind !== 'sampling') return undefined;
  const content = Array.isArray(view.result.content) ? view.result.content[0] : view.result.content;
  return content?.type === 'text' ? content.text : JSON.stringify(content);
}

function rootUris(ctx: ServerContext, key: string): string[] | undefined {
  const view = inputResponse(ctx.mcpReq.inputResponses, key);
  return view.kind === 'roots' ? view.roots.map((r) => r.uri) : undefined;
}

/**
 * The state this round was sent with, when it was minted for `tool`: the SDK has already checked
 * its seal; the tool name keeps one tool's state from being replayed into another.
 */
function stateOf(ctx: ServerContext, tool: string): RoundState | undefined {
  const state = ctx.mcpReq.requestState<RoundState>();
  return typeof state === 'object' && state !== null && state.tool === tool ? state : undefined;
}

/** The capabilities the request declared in its `_meta` envelope. */
const declared = (ctx: ServerContext): ClientCapabilities =>
  ((ctx.mcpReq.envelope as Record<string, unknown> | undefined)?.[CLIENT_CAPABILITIES_META_KEY] as ClientCapabilities | undefined) ?? {};

/**
 * A tool that asks for a confirmation with a sealed `requestState`, and answers (with "state-ok")
 * only on a retry that brings the state back intact with the answer; the SDK refuses a tampered
 * state with -32602 before the tool runs.
 */
function confirmTool(codec: RequestStateCodec<RoundState>, tool: string, description: string): ModernTool {
  return {
    name: tool,
    description,
    inputSchema: NO_ARGS,
    run: async (_args, ctx) => {
      const ok = accepted(ctx, 'confirm')?.ok;
      if (!stateOf(ctx, tool) || typeof ok !== 'boolean') {
        return inputRequired({ inputRequests: { confirm: askConfirm() }, requestState: await codec.mint({ tool, step: 1 }) });
      }
      return text(`state-ok: confirmed=${ok}`);
    },
  };
}

/** The MRTR tools; `codec` seals and opens their `requestState`. */
export function inputRequiredTools(codec: RequestStateCodec<RoundState>): ModernTool[] {
  return [
    {
      name: 'test_input_required_result_elicitation',
      description: 'Asks for the user name with an input_required elicitation, then greets.',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const name = accepted(ctx, 'user_name')?.name;
        // A missing, wrong-keyed or malformed answer is asked for again rather than failed (SEP-2322 SHOULD).
        if (typeof name !== 'string') return inputRequired({ inputRequests: { user_name: askName('What is your name?') } });
        return text(`Hello, ${name}!`);
      },
    },
    {
      name: 'test_input_required_result_sampling',
      description: 'Asks the client to sample an LLM, then returns its answer.',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const answer = samplingText(ctx, 'capital_question');
        if (answer === undefined) return inputRequired({ inputRequests: { capital_question: askCapital() } });
        return text(`LLM response: ${answer}`);
      },
    },
    {
      name: 'test_input_required_result_list_roots',
      description: "Asks for the client's roots, then lists them.",
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const roots = rootUris(ctx, 'client_roots');
        if (roots === undefined) return inputRequired({ inputRequests: { client_roots: inputRequired.listRoots() } });
        return text(`Client roots: ${roots.join(', ') || '(none)'}`);
      },
    },
    confirmTool(codec, 'test_input_required_result_request_state', 'Asks for a confirmation with a sealed requestState, and says state-ok when the retry brings it back intact.'),
    {
      name: 'test_input_required_result_multiple_inputs',
      description: 'Asks for an elicitation, a sampling and the roots in one round.',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const tool = 'test_input_required_result_multiple_inputs';
        const name = accepted(ctx, 'user_name')?.name;
        const greeting = samplingText(ctx, 'greeting');
        const roots = rootUris(ctx, 'client_roots');
        if (!stateOf(ctx, tool) || typeof name !== 'string' || greeting === undefined || roots === undefined) {
          return inputRequired({
            inputRequests: { user_name: askName('What is your name?'), greeting: askGreeting(), client_roots: inputRequired.listRoots() },
            requestState: await codec.mint({ tool, step: 1 }),
          });
        }
        return text(`${greeting} ${name} (roots: ${roots.join(', ')})`);
      },
    },
    {
      name: 'test_input_required_result_multi_round',
      description: 'Asks for a name, then (a second round, new state) a favourite colour.',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const tool = 'test_input_required_result_multi_round';
        const state = stateOf(ctx, tool);
        const step1 = (): Promise<ReturnType<typeof inputRequired>> =>
          codec.mint({ tool, step: 1 }).then((requestState) => inputRequired({ inputRequests: { step1: askName('Step 1: What is your name?') }, requestState }));
        if (!state) return step1();
        if (state.step === 1) {
          const name = accepted(ctx, 'step1')?.name;
          if (typeof name !== 'string') return step1();
          return inputRequired({
            inputRequests: {
              step2: inputRequired.elicit({
                message: 'Step 2: What is your favorite color?',
                requestedSchema: { type: 'object', properties: { color: { type: 'string' } }, required: ['color'] },
              }),
            },
            requestState: await codec.mint({ tool, step: 2, learned: { name } }),
          });
        }
        const color = accepted(ctx, 'step2')?.color;
        if (typeof color !== 'string') return step1();
        return text(`${String(state.learned?.name)} likes ${color}`);
      },
    },
    confirmTool(codec, 'test_input_required_result_tampered_state', 'Asks for a confirmation with an HMAC-sealed requestState; a tampered state is refused.'),
    {
      name: 'test_input_required_result_capabilities',
      description: 'Asks only for what the request declared it can answer (sampling, elicitation, roots).',
      inputSchema: NO_ARGS,
      run: async (_args, ctx) => {
        const can = declared(ctx);
        const wanted: Record<string, InputRequest> = {};
        if (can.sampling && samplingText(ctx, 'greeting') === undefined) wanted.greeting = askGreeting();
        if (can.elicitation && accepted(ctx, 'user_name') === undefined) wanted.user_name = askName('What is your name?');
        if (can.roots && rootUris(ctx, 'client_roots') === undefined) wanted.client_roots = inputRequired.listRoots();
        if (Object.keys(wanted).length > 0) return inputRequired({ inputRequests: wanted });
        return text(`Asked only for: ${Object.keys(can).join(', ') || 'nothing'}`);
      },
    },
  ];
}

/** `test_input_required_result_prompt`: MRTR on `prompts/get` (input_required is not only for tools). */
export const INPUT_REQUIRED_PROMPT = { name: 'test_input_required_result_prompt', description: 'A prompt that first asks the user for its context.' };

/** Its `prompts/get`: asks for the context first, then builds the prompt with it. */
export function inputRequiredPrompt(ctx: ServerContext): GetPromptResult | ReturnType<typeof inputRequired> {
  const context = accepted(ctx, 'user_context')?.context;
  if (typeof context !== 'string') {
    return inputRequired({
      inputRequests: {
        user_context: inputRequired.elicit({
          message: 'What context should the prompt use?',
          requestedSchema: { type: 'object', properties: { context: { type: 'string' } }, required: ['context'] },
        }),
      },
    });
  }
  return { messages: [{ role: 'user', content: { type: 'text', text: `Answer with this context in mind: ${context}` } }] };
}
