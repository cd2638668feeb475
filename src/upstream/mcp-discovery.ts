import type { Dispatcher } from 'undici';
import type { PromptDefinition, Published, ResourceDefinition, ResourceTemplateDefinition, ToolDefinition } from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { capabilitiesWithout, PROBED_FEATURES } from '../mcp/client-capabilities.js';
import { isNotification, isObject, isResponse } from '../mcp/jsonrpc.js';
import { LIST_CHANGED_METHODS } from '../mcp/methods.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { withFailover } from './failover.js';
import { endpointOf, handshake, request } from './mcp-handshake.js';
import { deleteSession, openStream, replyMessages, type McpReply } from './mcp-wire.js';
import { LISTEN_METHOD, type Era } from '../mcp/era.js';
import { paramHeadersOf } from '../mcp/header-values.js';
import type { BackendEras } from './backend-eras.js';
import type { StatelessBackends } from './stateless-backend.js';
import type { Pools } from './pool.js';

export interface McpDiscoveryOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly defaultTimeoutMs: number;
  readonly credentials: OutboundCredentials;
  readonly clientInfo: { name: string; version: string };
  /** What each backend speaks (probed here at every discovery). */
  readonly eras: BackendEras;
  readonly stateless: StatelessBackends;
}

/** One request/response exchange with a backend, however it is reached. */
type Ask = (method: string, params: Record<string, unknown>) => Promise<Record<string, unknown>>;

/**
 * What native backends publish, learned in sessions of the gateway's own (never a client's) or,
 * from stateless backends, with stateless requests: the catalog's discovery, the tools that need a
 * client feature, and the watch of list changes.
 */
export class McpDiscovery {
  constructor(private readonly opts: McpDiscoveryOptions) {}

  /**
   * Ask a backend for everything it publishes: its tools, and its resources, resource templates
   * and prompts when its capabilities declare them. Each pass probes the instance's era first
   * (`server/discover`): a stateless backend is asked with stateless requests, any other in a
   * short-lived discovery session of the gateway's own.
   */
  async discover(backend: McpBackendConfig, signal: AbortSignal): Promise<Published> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const deadline = Deadline.under(signal, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    try {
      return await withFailover(pool, true, async (url) => {
        const headers = await this.opts.credentials.headers(backend, undefined);
        const probe = await this.opts.eras.probe(backend, url, headers, deadline.signal);
        if (probe.era === 'stateless') return this.discoverStateless(backend, url, headers, probe.capabilities, deadline.signal);
        const { session: bs, capabilities } = await handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, deadline.signal, capabilitiesWithout(undefined));
        const ep = endpointOf(bs, headers);
        try {
          const ask: Ask = (method, params) => request(this.opts.dispatcher, ep, method, params, deadline.signal);
          return await this.published('session', capabilities, ask, (feature) => this.sessionToolNames(backend, url, headers, feature, deadline.signal));
        } finally {
          void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
        }
      });
    } finally {
      deadline.dispose();
    }
  }

  /**
   * A stateless backend's lists, asked of the instance that answered the probe with the client
   * capabilities in each request's `_meta`. Tools whose `x-mcp-header` declarations are invalid
   * are left out (a client must not offer them), each reported as a catalog problem.
   */
  private async discoverStateless(backend: McpBackendConfig, url: string, headers: Record<string, string>, capabilities: Record<string, unknown>, signal: AbortSignal): Promise<Published> {
    const askWith =
      (clientCapabilities: Record<string, unknown>): Ask =>
      (method, params) =>
        this.opts.stateless.result({ backend, url, method, params, headers, signal, retrySafe: true, meta: { clientCapabilities, clientInfo: this.opts.clientInfo } });
    const names = async (feature: string): Promise<Set<string>> =>
      new Set((await this.listAll<ToolDefinition>(askWith(capabilitiesWithout(feature)), 'tools/list', 'tools', (t) => typeof t.name === 'string')).map((t) => t.name));
    const found = await this.published('stateless', capabilities, askWith(capabilitiesWithout(undefined)), names);
    const problems: string[] = [];
    const tools = found.tools.filter((t) => {
      const declared = paramHeadersOf(t.inputSchema);
      if ('problem' in declared) problems.push(`backend "${backend.name}": tool "${t.name}" is left out: ${declared.problem}`);
      return !('problem' in declared);
    });
    return problems.length > 0 ? { ...found, tools, problems } : found;
  }

  /** What a backend publishes, given its declared capabilities and a way to ask it; only what the capabilities declare is asked. */
  private async published(era: Era, capabilities: Record<string, unknown>, ask: Ask, toolNamesWithout: (feature: string) => Promise<Set<string>>): Promise<Published> {
    const has = (cap: string): boolean => isObject(capabilities[cap]);
    const list = <T>(method: string, key: string, valid: (x: Record<string, unknown>) => boolean): Promise<T[]> => this.listAll<T>(ask, method, key, valid);
    // A server without tools answers tools/list with -32601.
    const tools = has('tools') ? await list<ToolDefinition>('tools/list', 'tools', (t) => typeof t.name === 'string' && isObject(t.inputSchema)) : [];
    return {
      era,
      servesResources: has('resources'),
      tools,
      toolNeeds: tools.length > 0 ? await this.probeToolNeeds(tools, toolNamesWithout) : new Map(),
      resources: has('resources') ? await list<ResourceDefinition>('resources/list', 'resources', (r) => typeof r.uri === 'string' && typeof r.name === 'string') : [],
      resourceTemplates: has('resources') ? await list<ResourceTemplateDefinition>('resources/templates/list', 'resourceTemplates', (t) => typeof t.uriTemplate === 'string' && typeof t.name === 'string') : [],
      prompts: has('prompts') ? await list<PromptDefinition>('prompts/list', 'prompts', (p) => typeof p.name === 'string') : [],
    };
  }

  /**
   * Hold a gateway-owned session with the backend open and call `changed` for each list_changed
   * it sends on the session's GET stream (src/catalog/watchers.ts); a stateless backend's come
   * on a `subscriptions/listen` stream instead. `unsupported` when the backend
   * declares no list changes or offers no stream; `ended` when the stream ended.
   */
  async watchLists(backend: McpBackendConfig, changed: () => void, signal: AbortSignal): Promise<'unsupported' | 'ended'> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const headers = await this.opts.credentials.headers(backend, undefined);
    if ((await this.opts.eras.of(backend, signal)) === 'stateless') return this.listenLists(backend, headers, changed, signal);
    const opened = await withFailover(pool, true, (url) => handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, AbortSignal.any([signal, AbortSignal.timeout(backend.timeoutMs ?? this.opts.defaultTimeoutMs)])));
    const ep = endpointOf(opened.session, headers);
    let reply: McpReply | undefined;
    try {
      const caps = opened.capabilities;
      const announces = ['tools', 'resources', 'prompts'].some((c) => isObject(caps[c]) && caps[c].listChanged === true);
      if (!announces || !ep.sessionId) return 'unsupported';
      reply = await openStream(this.opts.dispatcher, ep, signal);
      if (reply.status !== 200 || reply.contentType !== 'text/event-stream') {
        await reply.body.dump();
        return 'unsupported';
      }
      for await (const m of replyMessages(reply)) if (isNotification(m) && LIST_CHANGED_METHODS.has(m.method)) changed();
      return 'ended';
    } finally {
      // A stream left open after a message the gateway cannot read would keep undici's abort
      // listener on `signal`, which the watch reuses for every retry.
      reply?.body.destroy();
      void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
    }
  }

  /**
   * A stateless backend's list changes, on the stream of a `subscriptions/listen` request (the
   * stateless era's replacement of the session GET stream). `unsupported` when the backend
   * refuses the request.
   */
  private async listenLists(backend: McpBackendConfig, headers: Record<string, string>, changed: () => void, signal: AbortSignal): Promise<'unsupported' | 'ended'> {
    const notifications = { toolsListChanged: true, promptsListChanged: true, resourcesListChanged: true };
    const listen = { backend, method: LISTEN_METHOD, params: { notifications }, headers, signal, retrySafe: true, meta: { clientCapabilities: {}, clientInfo: this.opts.clientInfo } };
    for await (const m of this.opts.stateless.send(listen, 0)) {
      if (isNotification(m) && LIST_CHANGED_METHODS.has(m.method)) changed();
      else if (isResponse(m)) return 'error' in m ? 'unsupported' : 'ended';
    }
    return 'ended';
  }

  /**
   * Which client features each tool needs: a tool the backend lists to a client with every
   * relayed capability but not to one without a feature needs that feature. One listing per
   * feature (in parallel); tools whose condition is not a plain "needs all of" show to every
   * client that has the full set's tools (docs/configuration.md "Client capabilities").
   */
  private async probeToolNeeds(tools: readonly ToolDefinition[], toolNamesWithout: (feature: string) => Promise<Set<string>>): Promise<ReadonlyMap<string, readonly string[]>> {
    const needs = new Map<string, string[]>();
    await Promise.all(
      PROBED_FEATURES.map(async (feature) => {
        const names = await toolNamesWithout(feature);
        for (const t of tools) if (!names.has(t.name)) needs.set(t.name, [...(needs.get(t.name) ?? []), feature]);
      }),
    );
    return needs;
  }

  /** The tool names a session-era backend lists in a short session declaring every relayed capability but `feature`. */
  private async sessionToolNames(backend: McpBackendConfig, url: string, headers: Record<string, string>, feature: string, signal: AbortSignal): Promise<Set<string>> {
    const { session } = await handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, signal, capabilitiesWithout(feature));
    const ep = endpointOf(session, headers);
    try {
      const tools = await this.listAll<ToolDefinition>((method, params) => request(this.opts.dispatcher, ep, method, params, signal), 'tools/list', 'tools', (t) => typeof t.name === 'string');
      return new Set(tools.map((t) => t.name));
    } finally {
      void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
    }
  }

  /** Every page of one of a backend's lists; malformed entries are skipped. */
  private async listAll<T>(ask: Ask, method: string, key: string, valid: (x: Record<string, unknown>) => boolean): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await ask(method, cursor === undefined ? {} : { cursor });
      const items = result[key];
      if (!Array.isArray(items)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${method} result has no "${key}" array`);
      for (const x of items) if (isObject(x) && valid(x)) out.push(x as T);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return out;
  }
}

