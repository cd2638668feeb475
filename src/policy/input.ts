import type { Caller } from '../auth/caller.js';
import type { CatalogTool } from '../catalog/model.js';
import type { SessionRecord } from '../session/store.js';

/**
 * The document a policy sees (documented in docs/policy.md). Built only from what the gateway
 * verified or owns: token claims, the session record, the catalog — never client headers.
 */
export interface PolicyInput {
  readonly principal: {
    readonly issuer: string | null;
    readonly subject: string;
    readonly scopes: readonly string[];
    readonly roles: readonly string[];
    readonly claims: Readonly<Record<string, unknown>>;
  };
  readonly client: {
    /** The OAuth client the token was issued to, if any. */
    readonly id: string | null;
    readonly session: string | null;
    /** What the client said about itself at initialize (not verified). */
    readonly clientInfo: Readonly<Record<string, unknown>> | null;
    readonly protocolVersion: string | null;
  };
  readonly request: {
    readonly method: string;
    readonly tool: string;
    readonly service: string;
    readonly arguments: Readonly<Record<string, unknown>>;
  };
  readonly tool: {
    readonly name: string;
    readonly upstreamName: string;
    readonly title: string | null;
    readonly annotations: Readonly<Record<string, unknown>>;
    readonly tags: readonly string[];
  };
  readonly context: {
    readonly time: string;
    readonly source: { readonly ip: string | null };
  };
}

/** The caller-dependent part, shared by every tool of one listing. */
export type PolicySubject = Pick<PolicyInput, 'principal' | 'client' | 'context'>;

export function policySubject(caller: Caller, session: SessionRecord | null, sourceIp: string | null): PolicySubject {
  return {
    principal: { issuer: caller.principal.issuer, subject: caller.principal.subject, scopes: caller.scopes, roles: caller.roles, claims: caller.claims },
    client: {
      id: caller.clientId ?? null,
      session: session?.id ?? null,
      clientInfo: session?.clientInfo ?? null,
      protocolVersion: session?.protocolVersion ?? null,
    },
    context: { time: new Date().toISOString(), source: { ip: sourceIp } },
  };
}

export function toolPart(tool: CatalogTool, args: Record<string, unknown>): Pick<PolicyInput, 'request' | 'tool'> {
  const d = tool.definition;
  return {
    request: { method: 'tools/call', tool: tool.name, service: tool.backend, arguments: args },
    tool: {
      name: tool.name,
      upstreamName: tool.upstreamName,
      title: typeof d.title === 'string' ? d.title : null,
      annotations: d.annotations ?? {},
      tags: tool.tags,
    },
  };
}
