import type { BackendConfig, HttpMapping, ToolAnnotations } from '../config/schema.js';
import type { Era } from '../mcp/era.js';

/** A tool as MCP clients see it in `tools/list` (the gateway's name, the backend's schema). */
export interface ToolDefinition {
  name: string;
  title?: string;
  description?: string;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown>;
  annotations?: ToolAnnotations & Record<string, unknown>;
  [extra: string]: unknown;
}

/** How a catalog tool reaches its backend. */
export type ToolRoute =
  | { kind: 'rest'; http: HttpMapping; timeoutMs?: number }
  | { kind: 'mcp' };

/** One entry of the curated catalog. */
export interface CatalogTool {
  /** The name clients call (prefix applied; a virtual server's rename). */
  readonly name: string;
  /** The name in the gateway's catalog, when a virtual server shows the tool under another (src/catalog/virtual-view.ts). */
  readonly catalogName?: string;
  /** The backend's own name for the tool. */
  readonly upstreamName: string;
  readonly backend: string;
  readonly definition: Readonly<ToolDefinition>;
  readonly route: ToolRoute;
  /** Labels for policies (config `tags`, or `_meta.tags` of a native tool); not shown to clients. */
  readonly tags: readonly string[];
  /** Client features the backend offers the tool only with: listed and callable only for clients that declared them. */
  readonly needs?: readonly string[];
}

/**
 * The tool's or prompt's name in the gateway's catalog: the same on every endpoint, whatever a
 * virtual server renamed it to. Policies, rules and metrics go by it, so a rename steps around nothing.
 */
export function catalogNameOf(item: { readonly name: string; readonly catalogName?: string }): string {
  return item.catalogName ?? item.name;
}

/** A backend as catalog sources describe it (file config today, Consul later). */
export type BackendDescriptor = BackendConfig;

/** Whether a tool call may be sent again to another instance after an ambiguous failure. */
export function isRetrySafe(tool: CatalogTool): boolean {
  const a = tool.definition.annotations;
  return a?.readOnlyHint === true || a?.idempotentHint === true;
}

/** A resource as `resources/list` shows it (the gateway's URI, the backend's metadata). */
export interface ResourceDefinition {
  uri: string;
  name: string;
  [extra: string]: unknown;
}

/** A resource template as `resources/templates/list` shows it (RFC 6570 `uriTemplate`). */
export interface ResourceTemplateDefinition {
  uriTemplate: string;
  name: string;
  [extra: string]: unknown;
}

/** A prompt as `prompts/list` shows it (the gateway's name). */
export interface PromptDefinition {
  name: string;
  arguments?: Array<{ name: string; description?: string; required?: boolean }>;
  [extra: string]: unknown;
}

/** What a native MCP backend publishes through its own lists (only those its capabilities declare). */
export interface Published {
  /** The era the backend was found to speak (docs/configuration.md "Backend eras"). */
  readonly era?: Era;
  /** What discovery left out and why (tools with invalid `x-mcp-header` declarations), as catalog problems. */
  readonly problems?: readonly string[];
  /** The backend declared the `resources` capability: its answers may name its resources. */
  readonly servesResources: boolean;
  readonly tools: readonly ToolDefinition[];
  /** The client features (`sampling`, `elicitation`, `elicitation.url`, `roots`) a tool is listed only with, by its own name. */
  readonly toolNeeds?: ReadonlyMap<string, readonly string[]>;
  readonly resources: readonly ResourceDefinition[];
  readonly resourceTemplates: readonly ResourceTemplateDefinition[];
  readonly prompts: readonly PromptDefinition[];
}

/** One listed resource: the URI clients use, the backend's own URI. */
export interface CatalogResource {
  readonly uri: string;
  readonly upstreamUri: string;
  readonly backend: string;
  readonly definition: Readonly<ResourceDefinition>;
}

/** One listed resource template, and the literal start of its expansions (for routing filled-in URIs). */
export interface CatalogTemplate {
  readonly uriTemplate: string;
  readonly upstreamTemplate: string;
  readonly backend: string;
  readonly definition: Readonly<ResourceTemplateDefinition>;
  /** The template up to its first expression: every URI it expands to starts with it. */
  readonly literalPrefix: string;
}

/** One listed prompt: the name clients use, the backend's own name. */
export interface CatalogPrompt {
  readonly name: string;
  /** The name in the gateway's catalog, when a virtual server shows the prompt under another. */
  readonly catalogName?: string;
  readonly upstreamName: string;
  readonly backend: string;
  readonly definition: Readonly<PromptDefinition>;
}

/** A copy without the keys whose value is undefined (optional config keys), as clients should see it. */
export function definedOnly<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
