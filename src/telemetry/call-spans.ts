import type { RoutedCall, ToolCall, UpstreamCall } from '../upstream/call.js';
import { sessionRef } from './audit.js';
import {
  ATTR_GATEWAY_BACKEND,
  ATTR_GATEWAY_TARGET,
  ATTR_GEN_AI_OPERATION_NAME,
  ATTR_GEN_AI_PROMPT_NAME,
  ATTR_GEN_AI_TOOL_NAME,
  ATTR_JSONRPC_REQUEST_ID,
  ATTR_MCP_PROTOCOL_VERSION,
  ATTR_MCP_RESOURCE_URI,
  ATTR_MCP_SESSION_ID,
  GEN_AI_OPERATION_EXECUTE_TOOL,
} from './semconv.js';
import type { CallSpanFacts } from './trace.js';

/** What the spans of a `tools/call` say: named by the tool (the backend's own name on the client span). */
export function toolCallSpan(call: ToolCall): CallSpanFacts {
  const { tool, backend } = call;
  return {
    method: 'tools/call',
    target: tool.name,
    upstreamTarget: tool.upstreamName,
    attributes: { ...sessionAttributes(call), [ATTR_GEN_AI_TOOL_NAME]: tool.name, [ATTR_GEN_AI_OPERATION_NAME]: GEN_AI_OPERATION_EXECUTE_TOOL, [ATTR_GATEWAY_BACKEND]: backend.name },
  };
}

/**
 * What the spans of a routed request say. A prompt's name is a low-cardinality span name; a
 * resource URI is not (the conventions say so), so it is only an attribute.
 */
export function routedSpan(call: RoutedCall): CallSpanFacts {
  const prompt = call.kind === 'prompt' ? call.target : undefined;
  return {
    method: call.request.method,
    target: prompt,
    attributes: {
      ...sessionAttributes(call),
      [ATTR_GATEWAY_TARGET]: call.target,
      [ATTR_GATEWAY_BACKEND]: call.backend.name,
      ...(call.kind === 'resource' ? { [ATTR_MCP_RESOURCE_URI]: call.target } : {}),
      ...(prompt !== undefined ? { [ATTR_GEN_AI_PROMPT_NAME]: prompt } : {}),
    },
  };
}

/**
 * The span attributes of the session and request a call belongs to. `mcp.session.id` is the
 * audit trail's digest of the session id, never the id itself (for an anonymous gateway it is
 * the only credential), so spans and audit events join on it.
 */
function sessionAttributes(call: UpstreamCall): Record<string, string> {
  return {
    [ATTR_MCP_SESSION_ID]: sessionRef(call.session.id),
    [ATTR_JSONRPC_REQUEST_ID]: String(call.request.id),
    ...(call.session.protocolVersion ? { [ATTR_MCP_PROTOCOL_VERSION]: call.session.protocolVersion } : {}),
  };
}
