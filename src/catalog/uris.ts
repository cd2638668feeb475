/**
 * Resource URI namespacing (docs/configuration.md#resources-and-prompts). Two backends may both
 * publish `file:///README.md`, so URIs are namespaced the way tool names are: by the backend's
 * prefix. A backend with prefix `p` publishes `<uri>` as `mcpgw://p/<uri>`; a backend with an
 * empty prefix keeps its URIs unchanged. The wrapped form is a valid URI (the prefix is a host,
 * the backend's URI the path), is reversed by removing the front, and wraps a template's text
 * as it is, so a client that fills in the template gets a URI the gateway can route.
 */

import { isObject } from '../mcp/jsonrpc.js';

/** The scheme of namespaced URIs. */
export const URI_SCHEME = 'mcpgw';

const WRAPPED = /^mcpgw:\/\/([^/?#]+)\/([\s\S]*)$/;

/** The URI a backend's URI (or URI template) is published under, for the backend's prefix. */
export function exposedUri(prefix: string, uri: string): string {
  return prefix === '' ? uri : `${URI_SCHEME}://${prefix}/${uri}`;
}

/** The prefix and backend URI of a namespaced URI; undefined for any other URI. */
export function unwrapUri(uri: string): { prefix: string; upstream: string } | undefined {
  const m = WRAPPED.exec(uri);
  return m ? { prefix: m[1]!, upstream: m[2]! } : undefined;
}

/** The text of a URI template up to its first expression: every URI it expands to starts with it. */
export function literalPrefix(template: string): string {
  const i = template.indexOf('{');
  return i < 0 ? template : template.slice(0, i);
}

/** The scheme of a URI (lower-case), or undefined when it has none. */
export function schemeOf(uri: string): string | undefined {
  return /^([A-Za-z][A-Za-z0-9+.-]*):/.exec(uri)?.[1]?.toLowerCase();
}

/**
 * A result from a backend with every resource URI it names exposed for the client: `resource_link`
 * and embedded `resource` content blocks (tool results, prompt messages), `contents[]` of a read,
 * and `uri` of an update notification. Returns the same object when nothing changes.
 */
export function exposeResultUris(prefix: string, result: Record<string, unknown>): Record<string, unknown> {
  if (prefix === '') return result;
  const out: Record<string, unknown> = { ...result };
  if (typeof result.uri === 'string') out.uri = exposedUri(prefix, result.uri);
  if (Array.isArray(result.content)) out.content = result.content.map((c) => exposeBlock(prefix, c));
  if (Array.isArray(result.contents)) out.contents = result.contents.map((c) => withUri(prefix, c));
  if (Array.isArray(result.messages)) {
    out.messages = result.messages.map((m) => (isObject(m) && m.content !== undefined ? { ...m, content: exposeBlock(prefix, m.content) } : m));
  }
  return out;
}

function exposeBlock(prefix: string, block: unknown): unknown {
  if (!isObject(block)) return block;
  if (block.type === 'resource_link') return withUri(prefix, block);
  if (block.type === 'resource' && isObject(block.resource)) return { ...block, resource: withUri(prefix, block.resource) };
  return block;
}

function withUri(prefix: string, o: unknown): unknown {
  return isObject(o) && typeof o.uri === 'string' ? { ...o, uri: exposedUri(prefix, o.uri) } : o;
}

