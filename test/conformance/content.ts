/**
 * The resources, resource template, prompts and completions the conformance suite's server
 * scenarios read (`@modelcontextprotocol/conformance` 0.1.16), as plain data both eras' backends serve,
 * and installed on a low-level SDK 1.x server.
 */
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import {
  CompleteRequestSchema,
  GetPromptRequestSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  McpError,
  ErrorCode,
  ReadResourceRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type GetPromptResult,
  type ReadResourceResult,
  type ServerNotification,
  type ServerRequest,
} from '@modelcontextprotocol/sdk/types.js';
import { RED_PIXEL_PNG } from './media.js';

export const RESOURCES = [
  { uri: 'test://static-text', name: 'static-text', description: 'A fixed text resource.', mimeType: 'text/plain' },
  { uri: 'test://static-binary', name: 'static-binary', description: 'A fixed PNG image.', mimeType: 'image/png' },
  { uri: 'test://watched-resource', name: 'watched-resource', description: 'A resource clients can subscribe to.', mimeType: 'text/plain' },
];

export const TEMPLATE = { uriTemplate: 'test://template/{id}/data', name: 'template-data', description: 'JSON data for an id.', mimeType: 'application/json' };
const TEMPLATE_URI = /^test:\/\/template\/([^/]+)\/data$/;

/** The contents of `uri`, or undefined when there is no such resource (each era answers that with its own error). */
export function readContent(uri: string): ReadResourceResult | undefined {
  switch (uri) {
    case 'test://static-text':
      return { contents: [{ uri, mimeType: 'text/plain', text: 'This is the content of the static text resource.' }] };
    case 'test://static-binary':
      return { contents: [{ uri, mimeType: 'image/png', blob: RED_PIXEL_PNG }] };
    case 'test://watched-resource':
      return { contents: [{ uri, mimeType: 'text/plain', text: 'Watched resource content.' }] };
  }
  const id = TEMPLATE_URI.exec(uri)?.[1];
  if (id !== undefined) {
    return { contents: [{ uri, mimeType: 'application/json', text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }) }] };
  }
  return undefined;
}

function read(uri: string): ReadResourceResult {
  const found = readContent(uri);
  // -32002 is the resource-not-found code of the session-era specification; `data.uri` as SEP-2164 asks.
  if (!found) throw new McpError(-32002, `Resource not found: ${uri}`, { uri });
  return found;
}

export const PROMPTS = [
  { name: 'test_simple_prompt', description: 'A prompt without arguments.' },
  {
    name: 'test_prompt_with_arguments',
    description: 'A prompt with two arguments.',
    arguments: [
      { name: 'arg1', description: 'First test argument', required: true },
      { name: 'arg2', description: 'Second test argument', required: true },
    ],
  },
  {
    name: 'test_prompt_with_embedded_resource',
    description: 'A prompt that embeds a resource.',
    arguments: [{ name: 'resourceUri', description: 'URI of the resource to embed', required: true }],
  },
  { name: 'test_prompt_with_image', description: 'A prompt with an image.' },
];

/** The messages of prompt `name`, or undefined when there is no such prompt. */
export function promptContent(name: string, args: Record<string, string>): GetPromptResult | undefined {
  switch (name) {
    case 'test_simple_prompt':
      return { messages: [{ role: 'user', content: { type: 'text', text: 'This is a simple prompt for testing.' } }] };
    case 'test_prompt_with_arguments':
      return { messages: [{ role: 'user', content: { type: 'text', text: `Prompt with arguments: arg1='${args.arg1}', arg2='${args.arg2}'` } }] };
    case 'test_prompt_with_embedded_resource':
      return {
        messages: [
          { role: 'user', content: { type: 'resource', resource: { uri: args.resourceUri ?? 'test://missing', mimeType: 'text/plain', text: 'Embedded resource content for testing.' } } },
          { role: 'user', content: { type: 'text', text: 'Please process the embedded resource above.' } },
        ],
      };
    case 'test_prompt_with_image':
      return {
        messages: [
          { role: 'user', content: { type: 'image', data: RED_PIXEL_PNG, mimeType: 'image/png' } },
          { role: 'user', content: { type: 'text', text: 'Please analyze the image above.' } },
        ],
      };
  }
  return undefined;
}

function prompt(name: string, args: Record<string, string>): GetPromptResult {
  const found = promptContent(name, args);
  if (!found) throw new McpError(ErrorCode.InvalidParams, `Unknown prompt: ${name}`);
  return found;
}

/** Completion candidates per argument name; answers filter them by the typed prefix. */
const CANDIDATES: Record<string, string[]> = {
  arg1: ['paris', 'park', 'party', 'test', 'testValue1'],
  arg2: ['world', 'testValue2'],
  id: ['1', '123', '42'],
};

/** The `completion/complete` answer for argument `name` typed as far as `value`. */
export function completion(name: string, value: string): { completion: { values: string[]; total: number; hasMore: boolean } } {
  const values = (CANDIDATES[name] ?? []).filter((v) => v.startsWith(value));
  return { completion: { values, total: values.length, hasMore: false } };
}

/** A prompt whose `prompts/get` needs the client first (asks it on the request's stream). */
export interface AskingPrompt {
  readonly definition: { readonly name: string; readonly description: string };
  get(server: Server, extra: RequestHandlerExtra<ServerRequest, ServerNotification>): Promise<GetPromptResult>;
}

/** Install resources (with subscriptions), prompts (and `asking` ones) and completion on `server`. */
export function installContent(server: Server, asking: readonly AskingPrompt[] = []): void {
  const subscriptions = new Set<string>();
  server.setRequestHandler(ListResourcesRequestSchema, async () => ({ resources: RESOURCES }));
  server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => ({ resourceTemplates: [TEMPLATE] }));
  server.setRequestHandler(ReadResourceRequestSchema, async (req) => read(req.params.uri));
  server.setRequestHandler(SubscribeRequestSchema, async (req) => {
    subscriptions.add(req.params.uri);
    return {};
  });
  server.setRequestHandler(UnsubscribeRequestSchema, async (req) => {
    subscriptions.delete(req.params.uri);
    return {};
  });
  server.setRequestHandler(ListPromptsRequestSchema, async () => ({ prompts: [...PROMPTS, ...asking.map((p) => p.definition)] }));
  server.setRequestHandler(GetPromptRequestSchema, async (req, extra) => {
    const ask = asking.find((p) => p.definition.name === req.params.name);
    return ask ? ask.get(server, extra) : prompt(req.params.name, req.params.arguments ?? {});
  });
  server.setRequestHandler(CompleteRequestSchema, async (req) => completion(req.params.argument.name, req.params.argument.value));
}

/** The capabilities {@link installContent} serves. */
export const CONTENT_CAPABILITIES = {
  resources: { subscribe: true, listChanged: false },
  prompts: { listChanged: true },
  completions: {},
} as const;
