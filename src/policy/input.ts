import type { Caller } from '../auth/caller.js';
import { catalogNameOf, type CatalogPrompt, type CatalogResource, type CatalogTemplate, type CatalogTool } from '../catalog/model.js';
import type { UriTarget } from '../catalog/uri-router.js';
import type { ListKind, PolicyKind } from '../mcp/methods.js';
import type { SessionRecord } from '../session/store.js';
import { eraOf, type Era } from '../mcp/era.js';
import { isHeldSessionId } from '../session/held.js';
import { sessionRef } from '../telemetry/audit.js';

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
    /** What the client said about itself at initialize, or in the request's `_meta` (stateless clients); not verified. */
    readonly clientInfo: Readonly<Record<string, unknown>> | null;
    readonly protocolVersion: string | null;
    /** `session` (2025 revisions, `initialize` and Mcp-Session-Id) or `stateless` (2026-07-28); null before a session exists. */
    readonly era: Era | null;
  };
  readonly request: {
    readonly method: string;
    /** What is asked for; documents of tool calls always say `tool` (policies may treat a missing kind as `tool`). */
    readonly kind: PolicyKind;
    /**
     * The tool or prompt name in the gateway's catalog, or the resource URI (template). A virtual
     * server's rename does not change it, so a rule written against the catalog name still holds
     * on every endpoint (virtual servers can come from Consul KV: whoever writes there must not
     * be able to rename a tool out of a policy's reach).
     */
    readonly name: string;
    /** The name the client used for a tool or prompt: a virtual server's rename, else the same as `name`. */
    readonly calledAs?: string;
    /** The tool of a tool call, its catalog name (kept for policies written before `kind`). */
    readonly tool?: string;
    /** The resource URI of a read or subscription, or the template a completion is for. */
    readonly uri?: string;
    /** The prompt of `prompts/get`, or of a completion for a prompt argument: its catalog name. */
    readonly prompt?: string;
    /** The argument a completion is asked for. */
    readonly argument?: { readonly name: string; readonly value: string };
    readonly service: string;
    readonly arguments: Readonly<Record<string, unknown>>;
  };
  readonly tool?: {
    /** The name in the gateway's catalog, the same on every endpoint (`request.calledAs` is a virtual server's rename). */
    readonly name: string;
    readonly upstreamName: string;
    readonly title: string | null;
    readonly annotations: Readonly<Record<string, unknown>>;
    readonly tags: readonly string[];
  };
  readonly resource?: {
    readonly uri: string;
    readonly upstreamUri: string;
    /** The listed resource's name, or null for an unlisted URI. */
    readonly name: string | null;
    readonly title: string | null;
    readonly mimeType: string | null;
    /** The template the URI expands (as clients see it), or null. */
    readonly template: string | null;
  };
  readonly prompt?: {
    /** The name in the gateway's catalog, the same on every endpoint. */
    readonly name: string;
    readonly upstreamName: string;
    readonly title: string | null;
  };
  /** A backend's request to the client (`kind: relay`): which backend asks what, during which tool call. */
  readonly relay?: {
    readonly backend: string;
    readonly method: string;
    /** The tool call that caused it (as the client named the tool), or null outside a call. */
    readonly tool: string | null;
    /** For `elicitation/create`: `form` or `url`; null otherwise. */
    readonly mode: string | null;
  };
  readonly context: {
    readonly time: string;
    readonly source: { readonly ip: string | null };
    /**
     * The `session` and `request` of the gateway's audit event for this request, so an OPA
     * decision log entry and the audit event join up (docs/opa-bundle.md).
     */
    readonly audit: { readonly session: string | null; readonly request: string | number | null };
  };
  /** The virtual server the request came through (`/mcp/<name>`), or null for `/mcp`. */
  readonly virtualServer: string | null;
}

/** The caller-dependent part, shared by every tool of one listing. */
export type PolicySubject = Pick<PolicyInput, 'principal' | 'client' | 'context' | 'virtualServer'>;

/** `requestId`: the JSON-RPC id of the request decided (none for a listing, decided once for many requests). */
export function policySubject(caller: Caller, session: SessionRecord | null, sourceIp: string | null, requestId: string | number | null = null): PolicySubject {
  return {
    principal: { issuer: caller.principal.issuer, subject: caller.principal.subject, scopes: caller.scopes, roles: caller.roles, claims: caller.claims },
    client: {
      id: caller.clientId ?? null,
      // A stateless client's record is the gateway's, not a session the client holds.
      session: session && !isHeldSessionId(session.id) ? session.id : null,
      clientInfo: session?.clientInfo ?? null,
      protocolVersion: session?.protocolVersion ?? null,
      era: session ? eraOf(session.protocolVersion) : null,
    },
    context: { time: new Date().toISOString(), source: { ip: sourceIp }, audit: { session: session ? sessionRef(session.id) : null, request: requestId } },
    virtualServer: session?.virtualServer ?? null,
  };
}

/** The request-dependent part of the document: what is asked for, and what the catalog knows of it. */
export type PolicyItem = Pick<PolicyInput, 'request' | 'tool' | 'resource' | 'prompt' | 'relay'>;

export function toolPart(tool: CatalogTool, args: Record<string, unknown>): PolicyItem {
  const d = tool.definition;
  const name = catalogNameOf(tool);
  return {
    request: { method: 'tools/call', kind: 'tool', name, calledAs: tool.name, tool: name, service: tool.backend, arguments: args },
    tool: {
      name,
      upstreamName: tool.upstreamName,
      title: typeof d.title === 'string' ? d.title : null,
      annotations: d.annotations ?? {},
      tags: tool.tags,
    },
  };
}

/** A resource read, subscription or listing entry: the URI as the client names it, and where it routes. */
export function resourcePart(method: string, uri: string, target: UriTarget): PolicyItem {
  const r = target.resource?.definition;
  return {
    request: { method, kind: 'resource', name: uri, uri, service: target.backend, arguments: {} },
    resource: {
      uri,
      upstreamUri: target.upstreamUri,
      name: r?.name ?? null,
      title: str(r?.title),
      mimeType: str(r?.mimeType),
      template: target.template?.uriTemplate ?? null,
    },
  };
}

export function promptPart(prompt: CatalogPrompt, args: Record<string, unknown>): PolicyItem {
  const name = catalogNameOf(prompt);
  return {
    request: { method: 'prompts/get', kind: 'prompt', name, calledAs: prompt.name, prompt: name, service: prompt.backend, arguments: args },
    prompt: { name, upstreamName: prompt.upstreamName, title: str(prompt.definition.title) },
  };
}

/** A backend's request to the client: named by its method, for the backend that asks. */
export function relayPart(backend: string, method: string, tool: string | null, mode: string | null): PolicyItem {
  return {
    request: { method, kind: 'relay', name: method, service: backend, arguments: {} },
    relay: { backend, method, tool, mode },
  };
}

/** A completion: asked about as the prompt or resource template it completes, with `kind: completion`. */
export function completionPart(target: PolicyItem, argument: { name: string; value: string }): PolicyItem {
  return { ...target, request: { ...target.request, method: 'completion/complete', kind: 'completion', argument, arguments: {} } };
}

/** The policy item of one entry of an aggregated listing (arguments empty: it decides visibility). */
export function listItemPart(list: ListKind, entry: unknown): PolicyItem {
  switch (list) {
    case 'tools':
      return toolPart(entry as CatalogTool, {});
    case 'prompts':
      return promptPart(entry as CatalogPrompt, {});
    case 'resources': {
      const r = entry as CatalogResource;
      return resourcePart('resources/read', r.uri, { backend: r.backend, upstreamUri: r.upstreamUri, resource: r });
    }
    case 'resourceTemplates': {
      const t = entry as CatalogTemplate;
      return resourcePart('resources/read', t.uriTemplate, { backend: t.backend, upstreamUri: t.upstreamTemplate, template: t });
    }
  }
}

function str(v: unknown): string | null {
  return typeof v === 'string' ? v : null;
}
