/**
 * The two eras of MCP the gateway speaks (DESIGN.md "Protocol: two eras, one gateway"):
 * - session era (2025-03-26 … 2025-11-25): `initialize`, `Mcp-Session-Id`, the GET stream,
 *   server→client requests on SSE streams;
 * - stateless era (2026-07-28): no handshake and no session; every request carries its protocol
 *   version, client capabilities and client info in `params._meta`, and its method (and name)
 *   in HTTP headers; server→client requests become `input_required` results (MRTR).
 * The names below are the specification's; the gateway's code reads them from here only.
 */

/** The stateless revision. */
export const STATELESS_PROTOCOL_VERSION = '2026-07-28';

export type Era = 'session' | 'stateless';

/** The era a protocol revision belongs to: every revision before 2026-07-28 has sessions. */
export function eraOf(version: string): Era {
  return version >= STATELESS_PROTOCOL_VERSION ? 'stateless' : 'session';
}

/** Keys of `params._meta` (requests) and `result._meta` (results) in the stateless era. */
export const META = {
  protocolVersion: 'io.modelcontextprotocol/protocolVersion',
  clientCapabilities: 'io.modelcontextprotocol/clientCapabilities',
  clientInfo: 'io.modelcontextprotocol/clientInfo',
  logLevel: 'io.modelcontextprotocol/logLevel',
  serverInfo: 'io.modelcontextprotocol/serverInfo',
  subscriptionId: 'io.modelcontextprotocol/subscriptionId',
} as const;

/** Request headers that mirror the body (lower-case, as adapters hand them to admission). */
export const HEADER_METHOD = 'mcp-method';
export const HEADER_NAME = 'mcp-name';
/** Prefix of the headers a tool's `x-mcp-header` parameters are mirrored into. */
export const HEADER_PARAM_PREFIX = 'mcp-param-';

/** `resultType` of every stateless-era result. */
export type ResultType = 'complete' | 'input_required';

/** JSON-RPC codes the 2026-07-28 revision reserves (-32020 … -32099). */
export const STATELESS_ERROR_CODES = {
  headerMismatch: -32020,
  missingRequiredClientCapability: -32021,
  unsupportedProtocolVersion: -32022,
} as const;

/** The extension that carries tasks in the stateless era (replacing 2025-11-25's core tasks). */
export const TASKS_EXTENSION = 'io.modelcontextprotocol/tasks';

/** The stateless revisions the gateway serves (newest first). */
export const STATELESS_PROTOCOL_VERSIONS: readonly string[] = [STATELESS_PROTOCOL_VERSION];

/** The `resultType` of a finished request, and of one waiting for the client's input (MRTR). */
export const RESULT_COMPLETE: ResultType = 'complete';
export const RESULT_INPUT_REQUIRED: ResultType = 'input_required';

/** Params of a retried MRTR request: the client's answers, and the state the server handed out. */
export const PARAM_INPUT_RESPONSES = 'inputResponses';
export const PARAM_REQUEST_STATE = 'requestState';

/** The request every stateless-era server answers with its versions and capabilities; the gateway's probe of a backend's era. */
export const DISCOVER_METHOD = 'server/discover';

/** The request whose response stream carries the change notifications a stateless client opted in to. */
export const LISTEN_METHOD = 'subscriptions/listen';

/**
 * Requests of the session era that the stateless era removed (replaced by `_meta`, MRTR or
 * `subscriptions/listen`): never sent to a stateless backend.
 */
export const SESSION_ONLY_METHODS: ReadonlySet<string> = new Set(['initialize', 'ping', 'logging/setLevel', 'resources/subscribe', 'resources/unsubscribe']);

/** How a backend's era is chosen: probed (`auto`, the default) or pinned by configuration (`mcp-era` in Consul). */
export type EraSetting = 'auto' | Era;
export const ERA_SETTINGS: readonly EraSetting[] = ['auto', 'session', 'stateless'];
