/** Parameters of a `WWW-Authenticate: Bearer …` challenge (RFC 6750 §3, RFC 9728 §5.1). */
export interface Challenge {
  readonly resourceMetadata: string;
  readonly error?: string;
  readonly description?: string;
  readonly scope?: string;
}

function quote(v: string): string {
  return `"${v.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

export function wwwAuthenticate(c: Challenge): string {
  const parts = [`resource_metadata=${quote(c.resourceMetadata)}`];
  if (c.error) parts.push(`error=${quote(c.error)}`);
  if (c.description) parts.push(`error_description=${quote(c.description)}`);
  if (c.scope) parts.push(`scope=${quote(c.scope)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The well-known path of RFC 9728 protected-resource metadata; a resource's path is appended to it. */
export const METADATA_PATH = '/.well-known/oauth-protected-resource';

/** Whether a request path asks for protected-resource metadata. */
export function isMetadataPath(path: string): boolean {
  return path === METADATA_PATH || path.startsWith(`${METADATA_PATH}/`);
}

/** Where the protected-resource metadata of a resource URL lives (RFC 9728 §3.1: path appended). */
export function metadataUrl(resource: string): string {
  const u = new URL(resource);
  const path = u.pathname === '/' ? '' : u.pathname;
  return `${u.origin}${METADATA_PATH}${path}`;
}

/** The RFC 9728 protected-resource metadata document. */
export function resourceMetadata(resource: string, issuer: string, scopes: readonly string[]): Record<string, unknown> {
  return {
    resource,
    authorization_servers: [issuer],
    bearer_methods_supported: ['header'],
    ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
    resource_name: 'MCP Gateway',
  };
}
