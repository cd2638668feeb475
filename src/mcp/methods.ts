import { TASKS_EXTENSION, type Era } from './era.js';

/**
 * One description of every MCP request method the gateway serves. Admission, the broker and the
 * Envoy adapter read these entries instead of each switching over method names: adding a method
 * means one entry here and, when it routes in a new way, one handler in admission.
 */

/**
 * What a policy is asked about: the default is `tool`, so documents without a kind stay tool calls.
 * `relay`: a backend's request to the client (sampling, elicitation, roots); `task`: a task of a
 * task-augmented call (never asked: a task is bound to the session whose call created it).
 */
export type PolicyKind = 'tool' | 'resource' | 'prompt' | 'completion' | 'relay' | 'task';

/** The aggregated listings, by the key of their result array. */
export type ListKind = 'tools' | 'resources' | 'resourceTemplates' | 'prompts';

/** The notification that tells clients a listing changed (resources and templates share one). */
export const LIST_CHANGED: { readonly [K in ListKind]: string } = {
  tools: 'notifications/tools/list_changed',
  resources: 'notifications/resources/list_changed',
  resourceTemplates: 'notifications/resources/list_changed',
  prompts: 'notifications/prompts/list_changed',
};

/** Every list_changed notification method a backend may send. */
export const LIST_CHANGED_METHODS: ReadonlySet<string> = new Set(Object.values(LIST_CHANGED));

/** What a backend sends when one of its tasks changed status (its task id mapped to the client's). */
export const TASK_STATUS = 'notifications/tasks/status';

/** What a client sends when its roots changed: passed on to every backend session it holds. */
export const ROOTS_LIST_CHANGED = 'notifications/roots/list_changed';

/** What a backend sends on a followed session when a subscribed resource changed. */
export const RESOURCE_UPDATED = 'notifications/resources/updated';

/** What the gateway answers itself, without any backend. */
export type GatewayAnswer = 'initialize' | 'ping' | 'set-log-level' | 'discover' | 'listen';

/**
 * How a request reaches whoever answers it:
 * - gateway: the gateway answers it;
 * - aggregate: one listing over every backend, from the catalog snapshot;
 * - tool-name / resource-uri / prompt-name / completion-ref: to the one backend that owns the
 *   named tool, the URI, the prompt, or the completion's reference;
 * - task-id: to the backend that runs the task (2025-11-25 tasks, ids namespaced per backend; for
 *   stateless clients the tasks extension, bridged to the backend's 2025-11-25 tasks);
 * - session-tasks: the tasks the session's own calls created, each read from the backend that
 *   runs it (`tasks/list`, src/broker/task-list.ts).
 */
export type Route =
  | { readonly by: 'gateway'; readonly answer: GatewayAnswer }
  | { readonly by: 'aggregate'; readonly list: ListKind }
  | { readonly by: 'tool-name' }
  | { readonly by: 'resource-uri' }
  | { readonly by: 'prompt-name' }
  | { readonly by: 'completion-ref' }
  | { readonly by: 'task-id' }
  | { readonly by: 'session-tasks' };

/** The server capability (initialize result) that announces a method. */
export type Capability = 'tools' | 'resources' | 'prompts' | 'completions' | 'logging' | 'tasks';

export interface MethodSpec {
  readonly method: string;
  /**
   * The eras that have the method (src/mcp/era.ts): `initialize`, `ping`, subscriptions and tasks
   * exist only with sessions; `server/discover` only without. A request of the other era gets
   * -32601 (404 for a stateless client, as its transport asks).
   */
  readonly eras: readonly Era[];
  /** The body field a stateless request mirrors into `Mcp-Name` (validated against the header). */
  readonly mirrorsName?: 'name' | 'uri' | 'taskId';
  /**
   * The extension a stateless client must declare in its `clientCapabilities.extensions` to call
   * it (else 400, -32021 naming it); session clients negotiate nothing of the kind.
   */
  readonly statelessExtension?: string;
  /** Its `inputResponses` answer what a task asks (`tasks/update`), rather than retrying a request (MRTR). */
  readonly answersTask?: boolean;
  /** May answer a stateless client `input_required` (MRTR): a backend's request during it becomes input requests. */
  readonly inputRequired?: boolean;
  /** Its stateless result carries `ttlMs` and `cacheScope` (CacheableResult). */
  readonly cacheable?: boolean;
  /** False only for what opens a session (`initialize`): everything else needs a valid Mcp-Session-Id. */
  readonly session: boolean;
  readonly route: Route;
  /**
   * The policy question: for a routed request, may this caller do it (decided before any backend
   * is called); for a listing, which entries this caller may see (filtered per caller). Null: none.
   */
  readonly policy: PolicyKind | null;
  /**
   * `call`: every admitted request leaves one audit event when it ends, and every refusal one
   * denial event; `denials`: only refusals that are denials (authentication, session) are audited.
   */
  readonly audit: 'call' | 'denials';
  /** Whether the Envoy adapter may send the admitted request straight to the backend's cluster. */
  readonly envoyDirect: boolean;
  readonly capability?: Capability;
  /**
   * Once it succeeds, the gateway follows the client's backend session (its GET stream), so what
   * the backend sends unasked, such as `notifications/resources/updated`, reaches the client.
   */
  readonly followsBackend?: boolean;
}

const BOTH: readonly Era[] = ['session', 'stateless'];
const SESSION: readonly Era[] = ['session'];
const STATELESS: readonly Era[] = ['stateless'];

const METHODS: readonly MethodSpec[] = [
  { method: 'initialize', eras: SESSION, session: false, route: { by: 'gateway', answer: 'initialize' }, policy: null, audit: 'denials', envoyDirect: false },
  { method: 'server/discover', eras: STATELESS, session: false, route: { by: 'gateway', answer: 'discover' }, policy: null, audit: 'denials', envoyDirect: false, cacheable: true },
  // Stateless clients' stream of list changes and resource updates (the session era's GET stream and resources/subscribe).
  { method: 'subscriptions/listen', eras: STATELESS, session: false, route: { by: 'gateway', answer: 'listen' }, policy: null, audit: 'denials', envoyDirect: false },
  { method: 'ping', eras: SESSION, session: true, route: { by: 'gateway', answer: 'ping' }, policy: null, audit: 'denials', envoyDirect: false },
  { method: 'logging/setLevel', eras: SESSION, session: true, route: { by: 'gateway', answer: 'set-log-level' }, policy: null, audit: 'denials', envoyDirect: false, capability: 'logging' },
  { method: 'tools/list', eras: BOTH, session: true, route: { by: 'aggregate', list: 'tools' }, policy: 'tool', audit: 'denials', envoyDirect: false, capability: 'tools', cacheable: true },
  { method: 'tools/call', eras: BOTH, session: true, route: { by: 'tool-name' }, policy: 'tool', audit: 'call', envoyDirect: true, capability: 'tools', mirrorsName: 'name', inputRequired: true },
  { method: 'resources/list', eras: BOTH, session: true, route: { by: 'aggregate', list: 'resources' }, policy: 'resource', audit: 'denials', envoyDirect: false, capability: 'resources', cacheable: true },
  { method: 'resources/templates/list', eras: BOTH, session: true, route: { by: 'aggregate', list: 'resourceTemplates' }, policy: 'resource', audit: 'denials', envoyDirect: false, capability: 'resources', cacheable: true },
  { method: 'resources/read', eras: BOTH, session: true, route: { by: 'resource-uri' }, policy: 'resource', audit: 'call', envoyDirect: false, capability: 'resources', mirrorsName: 'uri', inputRequired: true, cacheable: true },
  { method: 'resources/subscribe', eras: SESSION, session: true, route: { by: 'resource-uri' }, policy: 'resource', audit: 'call', envoyDirect: false, capability: 'resources', followsBackend: true },
  // Stopping updates is never refused: a caller denied since subscribing may still unsubscribe.
  { method: 'resources/unsubscribe', eras: SESSION, session: true, route: { by: 'resource-uri' }, policy: null, audit: 'call', envoyDirect: false, capability: 'resources' },
  { method: 'prompts/list', eras: BOTH, session: true, route: { by: 'aggregate', list: 'prompts' }, policy: 'prompt', audit: 'denials', envoyDirect: false, capability: 'prompts', cacheable: true },
  { method: 'prompts/get', eras: BOTH, session: true, route: { by: 'prompt-name' }, policy: 'prompt', audit: 'call', envoyDirect: false, capability: 'prompts', mirrorsName: 'name', inputRequired: true },
  { method: 'completion/complete', eras: BOTH, session: true, route: { by: 'completion-ref' }, policy: 'completion', audit: 'call', envoyDirect: false, capability: 'completions' },
  // Tasks: 2025-11-25's core tasks for sessions; for stateless clients the tasks extension, which
  // polls with tasks/get (no tasks/result), answers input with tasks/update and has no tasks/list.
  // Only the caller (session, or held record) whose call created a task reaches it; tasks/list shows
  // a session exactly the tasks its tasks/get reaches, each read with a tasks/get (audited as one).
  { method: 'tasks/get', eras: BOTH, session: true, route: { by: 'task-id' }, policy: null, audit: 'call', envoyDirect: false, capability: 'tasks', mirrorsName: 'taskId', statelessExtension: TASKS_EXTENSION },
  { method: 'tasks/result', eras: SESSION, session: true, route: { by: 'task-id' }, policy: null, audit: 'call', envoyDirect: false, capability: 'tasks' },
  { method: 'tasks/list', eras: SESSION, session: true, route: { by: 'session-tasks' }, policy: null, audit: 'call', envoyDirect: false, capability: 'tasks' },
  { method: 'tasks/cancel', eras: BOTH, session: true, route: { by: 'task-id' }, policy: null, audit: 'call', envoyDirect: false, capability: 'tasks', mirrorsName: 'taskId', statelessExtension: TASKS_EXTENSION },
  { method: 'tasks/update', eras: STATELESS, session: true, route: { by: 'task-id' }, policy: null, audit: 'call', envoyDirect: false, capability: 'tasks', mirrorsName: 'taskId', statelessExtension: TASKS_EXTENSION, answersTask: true },
];

const BY_NAME: ReadonlyMap<string, MethodSpec> = new Map(METHODS.map((m) => [m.method, m]));

/** The description of a request method; undefined for a method the gateway does not serve (-32601). */
export function describeMethod(method: string): MethodSpec | undefined {
  return BY_NAME.get(method);
}

/** The description of a method as a client of `era` may call it; undefined when that era has no such method. */
export function describeMethodIn(method: string, era: Era): MethodSpec | undefined {
  const spec = BY_NAME.get(method);
  return spec?.eras.includes(era) ? spec : undefined;
}

/** Every described method, in table order. */
export function allMethods(): readonly MethodSpec[] {
  return METHODS;
}

/**
 * The `capabilities` of the gateway's initialize result: exactly what the table serves. Lists
 * announce `listChanged` (the catalog sends the notifications); `resources` announces `subscribe`
 * when `resources/subscribe` is served; `tasks` announces task-augmented `tools/call`, and `list`
 * and `cancel` where `tasks/list` and `tasks/cancel` are served.
 */
export function serverCapabilities(era: Era = 'session'): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const m of METHODS) {
    if (!m.capability || !m.eras.includes(era)) continue;
    const cap = (out[m.capability] ??= {});
    // Stateless clients hear of changes only through `subscriptions/listen`.
    if (m.route.by === 'aggregate' && (era === 'session' || describeMethodIn('subscriptions/listen', era))) cap.listChanged = true;
  }
  if (out.resources && (describeMethodIn('resources/subscribe', era) || describeMethodIn('subscriptions/listen', era))) out.resources.subscribe = true;
  // Stateless clients ask for backends' log messages per request (`_meta` logLevel), not with logging/setLevel.
  if (era === 'stateless') out.logging = {};
  // Task-augmented tool calls; listed and cancellable where the era has those methods.
  if (out.tasks) {
    out.tasks = {
      ...(describeMethodIn('tasks/list', era) ? { list: {} } : {}),
      ...(describeMethodIn('tasks/cancel', era) ? { cancel: {} } : {}),
      requests: { tools: { call: {} } },
    };
  }
  // Stateless clients are offered tasks as the extension, never in the session era's `tasks` slot.
  if (era === 'stateless' && out.tasks) {
    delete out.tasks;
    out.extensions = { [TASKS_EXTENSION]: {} };
  }
  return out;
}

/** A client capability the gateway relays to backends: what their requests to the client need. */
export type RelayedCapability = 'sampling' | 'elicitation' | 'roots';

/**
 * A request a backend may send its client (server→client). The gateway relays it to the client
 * session the backend session serves, under a gateway-chosen id, when that client declared
 * `capability` (and, for URL-mode elicitation, `elicitation.url`) and policy allows it
 * (`kind: relay`); every one is audited.
 */
export interface ServerRequestSpec {
  readonly method: string;
  readonly capability: RelayedCapability;
}

const SERVER_REQUESTS: readonly ServerRequestSpec[] = [
  { method: 'sampling/createMessage', capability: 'sampling' },
  { method: 'elicitation/create', capability: 'elicitation' },
  { method: 'roots/list', capability: 'roots' },
];

const SERVER_REQUESTS_BY_NAME: ReadonlyMap<string, ServerRequestSpec> = new Map(SERVER_REQUESTS.map((m) => [m.method, m]));

/** The description of a server→client request; undefined for one the gateway does not relay. */
export function describeServerRequest(method: string): ServerRequestSpec | undefined {
  return SERVER_REQUESTS_BY_NAME.get(method);
}

/** Every capability a backend request may need, in table order. */
export const RELAYED_CAPABILITIES: readonly RelayedCapability[] = [...new Set(SERVER_REQUESTS.map((m) => m.capability))];

/**
 * Notifications a backend sends that reach the client: log messages (at the client's level),
 * progress, and the cancellation of a relayed request (its id mapped to the one the client saw).
 */
export const RELAYED_NOTIFICATIONS = {
  message: 'notifications/message',
  progress: 'notifications/progress',
  cancelled: 'notifications/cancelled',
  /** A URL-mode elicitation finished out of band (usually outside any call). */
  elicitationComplete: 'notifications/elicitation/complete',
} as const;
