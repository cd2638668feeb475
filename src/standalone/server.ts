import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { GatewayRequest } from '../admission/decision.js';
import { HANDOFF_HEADER, type DecisionHandoff } from '../admission/handoff.js';
import { corsHeaders, originMatcher } from '../admission/origin.js';
import { GatewayError, wireError } from '../errors.js';
import { isRequest, type JsonRpcId } from '../mcp/jsonrpc.js';
import { BearerAuthenticator } from '../auth/authenticator.js';
import { resourceMetadata } from '../auth/challenge.js';
import { readBody } from './body.js';
import type { GatewayCore } from '../gateway.js';
import { writeJson, writeReply } from './write.js';
import { hostPort } from '../net.js';

const CORS_ALLOW_HEADERS = 'content-type, accept, authorization, mcp-session-id, mcp-protocol-version, last-event-id';

export interface StandaloneServerOptions {
  /**
   * Decisions ext_proc already made (the Envoy topology's broker): a request carrying a ticket
   * from it is carried out without being admitted again. Never set for a server clients reach
   * directly without Envoy stripping their `x-mcp-gateway-*` headers.
   */
  readonly handoff?: DecisionHandoff;
}

/** The one-process gateway: a plain node:http server in front of the core. */
export class StandaloneServer {
  private readonly server: Server;
  private readonly originAllowed: (origin: string | undefined) => boolean;

  constructor(
    private readonly core: GatewayCore,
    private readonly opts: StandaloneServerOptions = {},
  ) {
    this.originAllowed = originMatcher(core.config.server.allowedOrigins);
    this.server = createServer({ keepAliveTimeout: 65_000, requestTimeout: 0 }, (req, res) => {
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
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address() as AddressInfo;
    return `http://${hostPort(addr.address, addr.port)}${this.core.config.server.path}`;
  }

  async close(): Promise<void> {
    this.core.streams.closeAll();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (path === '/healthz' && req.method === 'GET') return this.health(res);
    const { metrics } = this.core.config;
    if (metrics.enabled && path === metrics.path && req.method === 'GET') return this.metrics(res);
    if (path?.startsWith('/.well-known/oauth-protected-resource') && req.method === 'GET') return this.protectedResource(req, res);
    if (path !== this.core.config.server.path) return writeJson(res, 404, JSON.stringify({ error: 'not found', endpoint: this.core.config.server.path }));
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

  /** RFC 9728 metadata: which authorization server issues tokens for this gateway. */
  private protectedResource(req: IncomingMessage, res: ServerResponse): void {
    const { authenticator, config } = this.core;
    if (!(authenticator instanceof BearerAuthenticator) || !config.auth) return writeJson(res, 404, JSON.stringify({ error: 'authentication is not configured' }));
    const doc = resourceMetadata(authenticator.resourceFor(flatten(req.headers)), config.auth.issuer, config.auth.scopesSupported);
    writeJson(res, 200, JSON.stringify(doc), { 'access-control-allow-origin': '*', 'cache-control': 'max-age=300' });
  }

  private preflight(req: IncomingMessage, res: ServerResponse): void {
    if (!this.originAllowed(req.headers.origin)) return writeJson(res, 403, JSON.stringify(wireError('GW_ORIGIN_NOT_ALLOWED', null)));
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers': CORS_ALLOW_HEADERS,
      'access-control-max-age': '600',
    });
    res.end();
  }

  /** Prometheus text exposition of this core's registry. */
  private async metrics(res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.core.telemetry.metrics.scrape();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  }

  private async health(res: ServerResponse): Promise<void> {
    const snapshot = this.core.catalog.current();
    // A stale source (Consul unreachable) still serves its last known catalog: degraded, not down.
    const source = this.core.catalog.sourceStatus();
    const body = {
      status: source.stale ? 'degraded' : 'ok',
      catalog: { version: snapshot.version, tools: snapshot.tools.size, backends: snapshot.backends.size, problems: snapshot.problems, source },
      sessions: await this.core.sessions.size().catch(() => null),
      streams: this.core.streams.count,
    };
    writeJson(res, 200, JSON.stringify(body));
  }
}

function flatten(h: IncomingMessage['headers']): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(h)) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}
