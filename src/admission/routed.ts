/**
 * Decisions for requests routed by resource URI, prompt name or completion ref: find the owning
 * backend in the catalog, put the request in the backend's terms, and ask the policy the
 * question of its kind (src/mcp/methods.ts). Unknown targets are protocol errors, as MCP asks:
 * -32002 for a URI no backend serves, -32602 for an unknown prompt.
 */
import type { UriTarget } from '../catalog/uri-router.js';
import { isObject } from '../mcp/jsonrpc.js';
import { parseTaskId } from '../mcp/task-ids.js';
import type { PolicyKind } from '../mcp/methods.js';
import { accepts } from './media.js';
import { completionPart, promptPart, resourcePart, type PolicyItem } from '../policy/input.js';
import { traceCarrier } from '../telemetry/trace.js';
import { authorize, hiddenFrom, missingBackendScopes, refuse, type RequestContext } from './authorize.js';
import type { Decision, RoutedTarget } from './decision.js';

/** `resources/read`, `resources/subscribe`, `resources/unsubscribe`: by the URI. */
export async function resourceDecision(c: RequestContext): Promise<Decision> {
  const raw = c.message.params?.uri;
  if (typeof raw !== 'string' || raw === '') return refuse(c, 'GW_INVALID_PARAMS', '"uri" must be a non-empty string');
  // Schemes are case-insensitive (RFC 3986): routing, policy and the backend all see one spelling,
  // so `FILE:///etc/x` cannot route like `file:` yet step around a policy glob written for `file:`.
  const uri = raw.replace(/^[A-Za-z][A-Za-z0-9+.-]*:/, (s) => s.toLowerCase());
  note(c, 'resource', uri);
  const target = c.catalog.uris.resolve(uri);
  if (!target) return refuse(c, 'GW_RESOURCE_NOT_FOUND', `"${uri}"`);
  const params = { ...c.message.params, uri: target.upstreamUri };
  return routed(c, target.backend, resourcePart(c.message.method, uri, target), { backend: target.backend, kind: 'resource', name: uri, params, arguments: {} });
}

/** `prompts/get`: by the prompt's name, renamed to the backend's. */
export async function promptDecision(c: RequestContext): Promise<Decision> {
  const params = c.message.params ?? {};
  const name = params.name;
  if (typeof name !== 'string') return refuse(c, 'GW_INVALID_PARAMS', '"name" must be a string');
  note(c, 'prompt', name);
  const args = params.arguments ?? {};
  if (!isObject(args) || !Object.values(args).every((v) => typeof v === 'string')) return refuse(c, 'GW_INVALID_PARAMS', '"arguments" must be an object of strings');
  if (c.trail) c.trail.arguments = args;
  const prompt = c.catalog.prompts.get(name);
  if (!prompt) return refuse(c, 'GW_UNKNOWN_PROMPT', `"${name}"`);
  const hidden = await hiddenFrom(c, 'prompts', name, 'GW_UNKNOWN_PROMPT');
  if (hidden) return hidden;
  const upstream = { ...params, name: prompt.upstreamName };
  return routed(c, prompt.backend, promptPart(prompt, args), { backend: prompt.backend, kind: 'prompt', name, params: upstream, arguments: args });
}

/**
 * `completion/complete`: by its ref, a prompt (`ref/prompt`, name) or a resource template
 * (`ref/resource`, uri), rewritten to the backend's name or template. The policy is asked
 * whether the caller may use that prompt or template, with `kind: completion`.
 */
export async function completionDecision(c: RequestContext): Promise<Decision> {
  const params = c.message.params ?? {};
  const { ref, argument } = params;
  if (!isObject(argument) || typeof argument.name !== 'string' || typeof argument.value !== 'string') {
    return refuse(c, 'GW_INVALID_PARAMS', '"argument" must be an object with string "name" and "value"');
  }
  const arg = { name: argument.name, value: argument.value };
  if (c.trail) c.trail.arguments = { [arg.name]: arg.value };
  if (isObject(ref) && ref.type === 'ref/prompt' && typeof ref.name === 'string') {
    note(c, 'completion', ref.name);
    const prompt = c.catalog.prompts.get(ref.name);
    if (!prompt) return refuse(c, 'GW_UNKNOWN_PROMPT', `"${ref.name}"`);
    const upstream = { ...params, ref: { ...ref, name: prompt.upstreamName } };
    const item = completionPart(promptPart(prompt, {}), arg);
    return routed(c, prompt.backend, item, { backend: prompt.backend, kind: 'completion', name: ref.name, params: upstream, arguments: { [arg.name]: arg.value } });
  }
  if (isObject(ref) && ref.type === 'ref/resource' && typeof ref.uri === 'string') {
    note(c, 'completion', ref.uri);
    const target = templateTarget(c, ref.uri);
    if (!target) return refuse(c, 'GW_RESOURCE_NOT_FOUND', `"${ref.uri}"`);
    const upstream = { ...params, ref: { ...ref, uri: target.upstreamUri } };
    const item = completionPart(resourcePart('completion/complete', ref.uri, target), arg);
    return routed(c, target.backend, item, { backend: target.backend, kind: 'completion', name: ref.uri, params: upstream, arguments: { [arg.name]: arg.value } });
  }
  return refuse(c, 'GW_INVALID_PARAMS', '"ref" must be {"type":"ref/prompt","name":…} or {"type":"ref/resource","uri":…}');
}

/**
 * `tasks/get`, `tasks/result`, `tasks/cancel`: by the task id, to the backend that runs it, in
 * that backend's id. Only the session whose call created the task reaches it: any other id is
 * unknown (-32602), as the spec asks for an invalid task id.
 */
export async function taskDecision(c: RequestContext): Promise<Decision> {
  const taskId = c.message.params?.taskId;
  if (typeof taskId !== 'string' || taskId === '') return refuse(c, 'GW_INVALID_PARAMS', '"taskId" must be a non-empty string');
  note(c, 'task', taskId);
  const owned = c.session.tasks?.includes(taskId) ? parseTaskId(taskId) : undefined;
  if (!owned) return refuse(c, 'GW_INVALID_PARAMS', `unknown task "${taskId}"`);
  const item: PolicyItem = { request: { method: c.message.method, kind: 'task', name: taskId, service: owned.backend, arguments: {} } };
  return routed(c, owned.backend, item, { backend: owned.backend, kind: 'task', name: taskId, params: { ...c.message.params, taskId: owned.taskId }, arguments: {} });
}

/**
 * `tasks/list`: the session's tasks, as many as its `tasks/get` reaches now. A task whose backend
 * wants scopes the caller's token lacks is left out, as `tasks/get` would refuse it (403); the
 * policy is asked nothing, as for `tasks/get`. The broker reads each task from its backend.
 */
export function taskListDecision(c: RequestContext): Decision {
  const cursor = c.message.params?.cursor;
  if (cursor !== undefined && typeof cursor !== 'string') return refuse(c, 'GW_INVALID_PARAMS', '"cursor" must be a string');
  if (c.trail) c.trail.kind = 'task';
  const tasks = (c.session.tasks ?? []).filter((id) => {
    const backend = parseTaskId(id)?.backend;
    return backend !== undefined && missingBackendScopes(c, backend).length === 0;
  });
  const decision: Extract<Decision, { kind: 'list-tasks' }> = { kind: 'list-tasks', session: c.session, message: c.message, tasks, cursor, caller: c.caller, sourceIp: c.req.remoteAddress ?? null };
  const trace = traceCarrier(c.req.headers);
  if (trace) decision.trace = trace;
  return decision;
}

/** A completion's template as listed, else wherever its URI routes. */
function templateTarget(c: RequestContext, uri: string): UriTarget | undefined {
  const t = c.catalog.templates.get(uri);
  return t ? { backend: t.backend, upstreamUri: t.upstreamTemplate, template: t } : c.catalog.uris.resolve(uri);
}

function note(c: RequestContext, kind: PolicyKind, target: string): void {
  if (!c.trail) return;
  c.trail.kind = kind;
  c.trail.target = target;
}

/** Scopes and policy, then the decision to send the request on. */
async function routed(c: RequestContext, backend: string, item: PolicyItem, target: RoutedTarget): Promise<Decision> {
  if (c.trail) c.trail.backend = backend;
  const refused = await authorize(c, backend, item);
  if (refused) return refused;
  const decision: Extract<Decision, { kind: 'forward' }> = { kind: 'forward', session: c.session, message: c.message, target, caller: c.caller, sourceIp: c.req.remoteAddress ?? null };
  const trace = traceCarrier(c.req.headers);
  if (trace) decision.trace = trace;
  if (!accepts(c.req.headers.accept, 'text/event-stream')) decision.answerOnly = true;
  return decision;
}
