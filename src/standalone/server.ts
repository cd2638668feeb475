import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { GatewayRequest } from '../admission/decision.js';
import { HANDOFF_HEADER, type DecisionHandoff } from '../admission/handoff.js';
import { corsHeaders, originMatcher } from '../admission/origin.js';
import { GatewayError, wireError } from '../errors.js';
import { isRequest, type JsonRpcId } from '../mcp/jsonrpc.js';
import { BearerAuthenticator } from '../auth/authenticator.js';
import { isMetadataPath, METADATA_PATH, resourceMetadata } from '../auth/challenge.js';
import { endpointOf } from '../endpoint.js';
import { readBody } from './body.js';
import type { GatewayCore } from '../gateway.js';
import { writeJson, writeReply } from './write.js';
import { effectiveAllowedHosts, hostMatcher, hostRejection, type HostCheck } from '../admission/host.js';
import { LIVEZ_PATH, writeAlive, type AdminEndpoints } from './admin.js';
import { closeNow, listenOn } from './listen.js';
import { HEADER_PARAM_PREFIX } from '../mcp/era.js';

const CORS_ALLOW_HEADERS = 'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id, mcp-method, mcp-name';

/**
 * The allowed request headers of a preflight: the fixed ones, and the `Mcp-Param-*` headers the
 * browser asks for (a stateless client mirrors a tool's `x-mcp-header` parameters into them, and
 * their names depend on the tool, so no fixed list can hold them).
 */
function allowHeaders(requested: string | undefined): string {
  const params = (requested ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter((h) => h.startsWith(HEADER_PARAM_PREFIX) && /^[!#$%&'*+.^_`|~0-9a-z-]+$/.test(h));
  return params.length > 0 ? `${CORS_ALLOW_HEADERS}, ${[...new Set(params)].join(', ')}` : CORS_ALLOW_HEADERS;
}

export interface StandaloneServerOptions {
  /**
   * Decisions ext_proc already made (the Envoy topology's broker): a request carrying a ticket
   * from it is carried out without being admitted again. Never set for a server clients reach
   * directly without Envoy stripping their `x-mcp-gateway-*` headers.
   */
  readonly handoff?: DecisionHandoff;
  /** Serve `/healthz` and metrics on this listener too (a standalone gateway without an admin listener). */
  readonly admin?: AdminEndpoints;
}

/** The one-process gateway: a plain node:http server in front of the core. */
export class StandaloneServer {
  private readonly server: Server;
  private readonly originAllowed: (origin: string | undefined) => boolean;
  private readonly hostAllowed: (host: string | undefined) => HostCheck;
  private draining = false;

  constructor(
    private readonly core: GatewayCore,
    private readonly opts: StandaloneServerOptions = {},
  ) {
    this.originAllowed = originMatcher(core.config.server.allowedOrigins);
    this.hostAllowed = hostMatcher(effectiveAllowedHosts(core.config.server.allowedHosts, core.config.server.host));
    const { server } = core.config;
    // Headers and body have a deadline (slow and idle clients), the answer none: SSE streams live long.
    const timeouts = { headersTimeout: server.headersTimeoutMs, requestTimeout: server.requestTimeoutMs, keepAliveTimeout: server.keepAliveTimeoutMs, connectionsCheckingInterval: 1_000 };
    this.server = createServer(timeouts, (req, res) => {
      this.route(req, res).catch((err: unknown) => {
        // Known failures (the session store down, say) keep their registry status; others are bugs.
        const known = err instanceof GatewayError;
        if (known) core.logger.warn({ code: err.code, err: err.message }, 'request failed');
        else core.logger.error({ err }, 'unhandled error while serving a request');
        if (res.headersSent) res.destroy();
        else writeJson(res, known ? err.status : 500, JSON.stringify(known ? wireError(err.code, null, err.detail) : wireError('GW_INTERNAL', null)));
      });
    });
  }

  /** Start listening; resolves with the endpoint URL. */
  async listen(host = this.core.config.server.host, port = this.core.config.server.port): Promise<string> {
    return `${await listenOn(this.server, host, port)}${this.core.config.server.path}`;
  }

  async close(): Promise<void> {
    this.core.streams.closeAll();
    this.core.broker.closeListeners();
    await closeNow(this.server);
  }

  /**
   * Stop taking requests and let running calls finish for up to `graceMs`, then cut the rest
   * (recorded as `cut`) and close. GET streams close at once: they never end by themselves, and
   * their clients reconnect to another instance. Requests still arriving on open connections get
   * 503 `GW_SHUTTING_DOWN`.
   */
  async drain(graceMs: number): Promise<void> {
    this.draining = true;
    // Followings other instances leave now go to instances that stay, not to this one about to leave too.
    this.core.sessions.follows?.retire();
    this.server.close();
    this.server.closeIdleConnections();
    this.core.streams.closeAll();
    this.core.broker.closeListeners();
    const end = Date.now() + graceMs;
    // A referenced timer: the drain itself keeps the process alive until it is done.
    while (this.core.broker.running > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const cut = this.core.broker.cutAll();
    if (cut > 0) this.core.logger.warn({ cut, graceMs }, 'shutdown grace period over; running calls cut');
    // Let the cut calls' last writes go out before the connections are closed.
    await new Promise((r) => setImmediate(r));
    await closeNow(this.server);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (this.draining) return writeJson(res, 503, JSON.stringify(wireError('GW_SHUTTING_DOWN', null)), { connection: 'close', 'retry-after': '1' });
    // Liveness on every MCP listener, whatever the Host: Envoy's health checks of the broker ask it
    // (under the cluster's name, which no allow-list holds), and the answer tells nobody anything.
    // Before the MCP endpoints: with `server.path: /` it is no virtual server (the name is reserved).
    if (path === LIVEZ_PATH && req.method === 'GET') return writeAlive(res);
    // `/mcp` and `/mcp/<name>` (virtual servers; admission answers 404 to a name nobody configured).
    const mcpEndpoint = endpointOf(path, this.core.config.server.path) !== undefined;
    // Admission checks the Host of MCP requests (also for ext_proc); the other endpoints are checked here.
    if (!mcpEndpoint) {
      const refused = hostRejection(this.hostAllowed(req.headers.host), req.headers.host);
      if (refused?.kind === 'reject') return writeJson(res, refused.status, JSON.stringify(refused.body));
    }
    const admin = this.opts.admin?.handle(req, res, path);
    if (admin) return admin;
    if (isMetadataPath(path) && req.method === 'GET') return this.protectedResource(req, res, path);
    if (!mcpEndpoint) return writeJson(res, 404, JSON.stringify({ error: 'not found', endpoint: this.core.config.server.path }));
    for (const [name, value] of Object.entries(corsHeaders(req.headers.origin, this.originAllowed))) res.setHeader(name, value);
    if (req.method === 'OPTIONS') return this.preflight(req, res);
    await this.mcp(req, res);
  }

  private async mcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { config, admission, broker, streams, logger } = this.core;
    const headers = flatten(req.headers);
    let body: string | undefined;
    let bodyBytes: number | undefined;
    if (req.method === 'POST') {
      const read = await readBody(req, config.server.maxBodyBytes);
      body = read.text;
      bodyBytes = read.size;
      // A body we stopped reading cannot be followed by another request on this connection.
      if (read.truncated) res.setHeader('connection', 'close');
    }
    const gatewayRequest: GatewayRequest = {
      method: req.method ?? 'GET',
      headers,
      url: req.url ?? '/',
      ...(req.socket.remoteAddress ? { remoteAddress: req.socket.remoteAddress } : {}),
      ...(body === undefined ? {} : { body, bodyBytes }),
    };
    const decision = this.opts.handoff?.take(headers[HANDOFF_HEADER]) ?? (await admission.decide(gatewayRequest));
    if (decision.kind === 'reject') logger.debug({ code: decision.code, status: decision.status }, 'request rejected');
    const reply = await broker.handle(decision);
    const requestId: JsonRpcId | null = 'message' in decision && isRequest(decision.message) ? decision.message.id : null;
    await writeReply(res, reply, {
      accept: headers.accept,
      requestId,
      streams,
      keepAliveMs: config.server.keepAliveIntervalMs,
      onError: (err) => logger.error({ err, requestId }, 'tool call failed inside the gateway'),
    });
  }

  /**
   * RFC 9728 metadata: which authorization server issues tokens for this gateway. A virtual
   * server's (`<metadata path>/mcp/<name>`) names its own resource URL and adds its scopes.
   */
  private protectedResource(req: IncomingMessage, res: ServerResponse, path: string): void {
    const { authenticator, config, virtualServers } = this.core;
    if (!(authenticator instanceof BearerAuthenticator) || !config.auth) return writeJson(res, 404, JSON.stringify({ error: 'authentication is not configured' }));
    const name = endpointOf(path.slice(METADATA_PATH.length), config.server.path) ?? null;
    const server = virtualServers.find(name);
    if (!server) return writeJson(res, 404, JSON.stringify(wireError('GW_UNKNOWN_VIRTUAL_SERVER', null, `"${name}"`)));
    const scopes = [...new Set([...config.auth.scopesSupported, ...server.scopes])];
    const doc = resourceMetadata(authenticator.resourceFor(flatten(req.headers), name), config.auth.issuer, scopes);
    writeJson(res, 200, JSON.stringify(doc), { 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' });
  }

  private preflight(req: IncomingMessage, res: ServerResponse): void {
    if (!this.originAllowed(req.headers.origin)) return writeJson(res, 403, JSON.stringify(wireError('GW_ORIGIN_NOT_ALLOWED', null)));
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers': allowHeaders(req.headers['access-control-request-headers']),
      'access-control-max-age': '600',
    });
    res.end();
  }

}

function flatten(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
