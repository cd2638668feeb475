/**
 * Attribute names of the OpenTelemetry MCP and GenAI semantic conventions (status: development).
 * Kept here rather than imported from `@opentelemetry/semantic-conventions/incubating`, as that
 * package asks: its incubating exports may change in any minor release. Stable names are
 * imported from the package itself.
 */
export const ATTR_MCP_METHOD_NAME = 'mcp.method.name';
export const ATTR_MCP_SESSION_ID = 'mcp.session.id';
export const ATTR_MCP_PROTOCOL_VERSION = 'mcp.protocol.version';
export const ATTR_MCP_RESOURCE_URI = 'mcp.resource.uri';
export const ATTR_JSONRPC_REQUEST_ID = 'jsonrpc.request.id';
export const ATTR_GEN_AI_OPERATION_NAME = 'gen_ai.operation.name';
export const ATTR_GEN_AI_TOOL_NAME = 'gen_ai.tool.name';
export const ATTR_GEN_AI_PROMPT_NAME = 'gen_ai.prompt.name';
/** `gen_ai.operation.name` of a tool call. */
export const GEN_AI_OPERATION_EXECUTE_TOOL = 'execute_tool';
/** `error.type` of a call the tool answered with `isError: true`. */
export const ERROR_TYPE_TOOL_ERROR = 'tool_error';

/** The gateway's own attributes (no convention names them). */
export const ATTR_GATEWAY_BACKEND = 'mcp.gateway.backend';
export const ATTR_GATEWAY_INSTANCE = 'mcp.gateway.instance';
export const ATTR_GATEWAY_OUTCOME = 'mcp.gateway.outcome';
export const ATTR_GATEWAY_TARGET = 'mcp.gateway.target';
