/** MCP protocol revisions the gateway speaks, newest first. */
export const SUPPORTED_PROTOCOL_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;
export type ProtocolVersion = (typeof SUPPORTED_PROTOCOL_VERSIONS)[number];

export const LATEST_PROTOCOL_VERSION: ProtocolVersion = SUPPORTED_PROTOCOL_VERSIONS[0];

export function isSupportedVersion(v: string): v is ProtocolVersion {
  return (SUPPORTED_PROTOCOL_VERSIONS as readonly string[]).includes(v);
}

/** Lifecycle rule: answer with the client's version when supported, otherwise with our latest. */
export function negotiateVersion(requested: unknown): ProtocolVersion {
  return typeof requested === 'string' && isSupportedVersion(requested) ? requested : LATEST_PROTOCOL_VERSION;
}

/**
 * Whether a client of this revision expects priming events (an id with empty data) and `retry`.
 * Older clients get event ids only: their SDKs may fail on an event without data.
 */
export function primesStreams(version: string): boolean {
  return version === '2025-11-25';
}

/** Whether a session of this revision may POST JSON-RPC batches: 2025-03-26 had them, 2025-06-18 removed them. */
export function acceptsBatches(version: string): boolean {
  return version === '2025-03-26';
}

export const HEADER_SESSION_ID = 'mcp-session-id';
export const HEADER_PROTOCOL_VERSION = 'mcp-protocol-version';
