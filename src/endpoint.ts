import { serverName } from './config/virtual-server-schema.js';

/**
 * Which MCP endpoint a request path names: `null` for the endpoint itself (`server.path`), a
 * virtual server's name for `<server.path>/<name>`, `undefined` for any other path. The name
 * is only checked to be a safe path segment; whether such a server exists is admission's call.
 */
export function endpointOf(url: string, base: string): string | null | undefined {
  const query = url.indexOf('?');
  const path = query === -1 ? url : url.slice(0, query);
  if (path === base) return null;
  const root = base.endsWith('/') ? base : `${base}/`;
  if (!path.startsWith(root)) return undefined;
  const name = path.slice(root.length);
  return serverName.safeParse(name).success ? name : undefined;
}
