import type { Authenticator } from '../auth/authenticator.js';
import { missingScopes, type Caller } from '../auth/caller.js';
import type { VirtualServer } from '../catalog/virtual-servers.js';
import { reject, type GatewayRequest, type Refusal } from './decision.js';

/**
 * The endpoint-level checks of a virtual server, after authentication: a token without the
 * server's scopes gets the same 403 `insufficient_scope` as for `auth.requiredScopes`, its
 * challenge pointing at this endpoint's protected-resource metadata. Null when they pass.
 */
export function endpointRefusal(server: VirtualServer, caller: Caller, req: GatewayRequest, authenticator: Authenticator): Refusal | null {
  const missing = missingScopes(caller, server.scopes);
  if (missing.length === 0) return null;
  const denied = authenticator.insufficientScope(req, missing);
  return reject(denied.code, null, denied.detail, denied.headers);
}

/** The 404 for `<server.path>/<name>` when no virtual server has that name. */
export function unknownServer(req: GatewayRequest): Refusal {
  return reject('GW_UNKNOWN_VIRTUAL_SERVER', null, `"${(req.url ?? '').split('?')[0]}"`);
}
