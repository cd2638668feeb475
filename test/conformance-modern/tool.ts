/** The shape of a tool of the 2026-07-28 conformance backend: a plain JSON input schema and a handler. */
import type { CallToolResult, InputRequiredResult, ServerContext } from '@modelcontextprotocol/server';

export interface ModernTool {
  readonly name: string;
  readonly description: string;
  /** Plain JSON Schema, served as written (the suite checks keywords and `x-mcp-header` survive). */
  readonly inputSchema: Record<string, unknown>;
  run(args: Record<string, unknown>, ctx: ServerContext): Promise<CallToolResult | InputRequiredResult>;
}
