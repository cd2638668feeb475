import type { Dispatcher } from 'undici';
import type { PromptDefinition, Published, ResourceDefinition, ResourceTemplateDefinition, ToolDefinition } from '../catalog/model.js';
import type { McpBackendConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { capabilitiesWithout, PROBED_FEATURES } from '../mcp/client-capabilities.js';
import { isNotification, isObject } from '../mcp/jsonrpc.js';
import { LIST_CHANGED } from '../mcp/methods.js';
import type { OutboundCredentials } from './credentials.js';
import { Deadline } from './deadline.js';
import { withFailover } from './failover.js';
import { endpointOf, handshake, request } from './mcp-handshake.js';
import { deleteSession, openStream, replyMessages, type McpEndpoint } from './mcp-wire.js';
import type { Pools } from './pool.js';

export interface McpDiscoveryOptions {
  readonly dispatcher: Dispatcher;
  readonly pools: Pools;
  readonly defaultTimeoutMs: number;
  readonly credentials: OutboundCredentials;
  readonly clientInfo: { name: string; version: string };
}

/**
 * What native backends publish, learned in sessions of the gateway's own (never a client's): the
 * catalog's discovery, the tools that need a client feature, and the watch of list changes.
 */
export class McpDiscovery {
  constructor(private readonly opts: McpDiscoveryOptions) {}

  /**
   * Ask a backend for everything it publishes, in a short-lived discovery session: its tools, and
   * its resources, resource templates and prompts when its capabilities declare them.
   */
  async discover(backend: McpBackendConfig, signal: AbortSignal): Promise<Published> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const deadline = Deadline.under(signal, backend.timeoutMs ?? this.opts.defaultTimeoutMs);
    try {
      return await withFailover(pool, true, async (url) => {
        const headers = await this.opts.credentials.headers(backend, undefined);
        const { session: bs, capabilities } = await handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, deadline.signal, capabilitiesWithout(undefined));
        const ep = endpointOf(bs, headers);
        const list = <T>(method: string, key: string, valid: (x: Record<string, unknown>) => boolean): Promise<T[]> =>
          this.listAll<T>(ep, method, key, valid, deadline.signal);
        try {
          const has = (cap: string): boolean => isObject(capabilities[cap]);
          // Only what the capabilities declare: a server without tools answers tools/list with -32601.
          const tools = has('tools') ? await list<ToolDefinition>('tools/list', 'tools', (t) => typeof t.name === 'string' && isObject(t.inputSchema)) : [];
          return {
            servesResources: has('resources'),
            tools,
            toolNeeds: tools.length > 0 ? await this.probeToolNeeds(backend, url, headers, tools, deadline.signal) : new Map(),
            resources: has('resources') ? await list<ResourceDefinition>('resources/list', 'resources', (r) => typeof r.uri === 'string' && typeof r.name === 'string') : [],
            resourceTemplates: has('resources')
              ? await list<ResourceTemplateDefinition>('resources/templates/list', 'resourceTemplates', (t) => typeof t.uriTemplate === 'string' && typeof t.name === 'string')
              : [],
            prompts: has('prompts') ? await list<PromptDefinition>('prompts/list', 'prompts', (p) => typeof p.name === 'string') : [],
          };
        } finally {
          void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
        }
      });
    } finally {
      deadline.dispose();
    }
  }

  /**
   * Hold a gateway-owned session with the backend open and call `changed` for each list_changed
   * it sends on the session's GET stream (src/catalog/watchers.ts). `unsupported` when the backend
   * declares no list changes or offers no stream; `ended` when the stream ended.
   */
  async watchLists(backend: McpBackendConfig, changed: () => void, signal: AbortSignal): Promise<'unsupported' | 'ended'> {
    const pool = this.opts.pools.get(backend.name, backend.urls);
    const headers = await this.opts.credentials.headers(backend, undefined);
    const opened = await withFailover(pool, true, (url) => handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, AbortSignal.any([signal, AbortSignal.timeout(backend.timeoutMs ?? this.opts.defaultTimeoutMs)])));
    const ep = endpointOf(opened.session, headers);
    try {
      const caps = opened.capabilities;
      const announces = ['tools', 'resources', 'prompts'].some((c) => isObject(caps[c]) && caps[c].listChanged === true);
      if (!announces || !ep.sessionId) return 'unsupported';
      const reply = await openStream(this.opts.dispatcher, ep, signal);
      if (reply.status !== 200 || reply.contentType !== 'text/event-stream') {
        await reply.body.dump();
        return 'unsupported';
      }
      for await (const m of replyMessages(reply)) if (isNotification(m) && LIST_CHANGED_METHODS.has(m.method)) changed();
      return 'ended';
    } finally {
      void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
    }
  }

  /**
   * Which client features each tool needs: a tool the backend lists to a client with every
   * relayed capability but not to one without a feature needs that feature. One short session
   * per feature (in parallel); tools whose condition is not a plain "needs all of" show to every
   * client that has the full set's tools (docs/configuration.md "Client capabilities").
   */
  private async probeToolNeeds(backend: McpBackendConfig, url: string, headers: Record<string, string>, tools: readonly ToolDefinition[], signal: AbortSignal): Promise<ReadonlyMap<string, readonly string[]>> {
    const needs = new Map<string, string[]>();
    await Promise.all(
      PROBED_FEATURES.map(async (feature) => {
        const { session } = await handshake(this.opts.dispatcher, this.opts.clientInfo, backend, url, headers, signal, capabilitiesWithout(feature));
        const ep = endpointOf(session, headers);
        try {
          const names = new Set((await this.listAll<ToolDefinition>(ep, 'tools/list', 'tools', (t) => typeof t.name === 'string', signal)).map((t) => t.name));
          for (const t of tools) if (!names.has(t.name)) needs.set(t.name, [...(needs.get(t.name) ?? []), feature]);
        } finally {
          void deleteSession(this.opts.dispatcher, ep, AbortSignal.timeout(2_000)).catch(() => {});
        }
      }),
    );
    return needs;
  }

  /** Every page of one of a backend's lists; malformed entries are skipped. */
  private async listAll<T>(ep: McpEndpoint, method: string, key: string, valid: (x: Record<string, unknown>) => boolean, signal: AbortSignal): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let page = 0; page < 1000; page++) {
      const result = await request(this.opts.dispatcher, ep, method, cursor === undefined ? {} : { cursor }, signal);
      const items = result[key];
      if (!Array.isArray(items)) throw new GatewayError('GW_UPSTREAM_PROTOCOL', `${method} result has no "${key}" array`);
      for (const x of items) if (isObject(x) && valid(x)) out.push(x as T);
      cursor = typeof result.nextCursor === 'string' && result.nextCursor !== '' ? result.nextCursor : undefined;
      if (cursor === undefined) break;
    }
    return out;
  }
}

const LIST_CHANGED_METHODS: ReadonlySet<string> = new Set(Object.values(LIST_CHANGED));
