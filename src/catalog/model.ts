import type { BackendConfig, HttpMapping, ToolAnnotations } from '../config/schema.js';

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
  /** The name clients call (prefix applied). */
  readonly name: string;
  /** The backend's own name for the tool. */
  readonly upstreamName: string;
  readonly backend: string;
  readonly definition: Readonly<ToolDefinition>;
  readonly route: ToolRoute;
  /** Labels for policies (config `tags`, or `_meta.tags` of a native tool); not shown to clients. */
  readonly tags: readonly string[];
}

/** A backend as catalog sources describe it (file config today, Consul later). */
export type BackendDescriptor = BackendConfig;

/** Whether a tool call may be sent again to another instance after an ambiguous failure. */
export function isRetrySafe(tool: CatalogTool): boolean {
  const a = tool.definition.annotations;
  return a?.readOnlyHint === true || a?.idempotentHint === true;
}
