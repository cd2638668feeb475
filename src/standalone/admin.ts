import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { effectiveAllowedHosts, hostMatcher, hostRejection } from '../admission/host.js';
import type { GatewayCore } from '../gateway.js';
import { closeNow, listenOn } from './listen.js';
import { writeJson } from './write.js';
import { PinAdmin, PINS_PATH } from './admin-pins.js';

/** The liveness path: answered on the admin listener and, for Envoy's health checks, on every MCP listener too. */
export const LIVEZ_PATH = '/livez';

/**
 * `200 {"status":"alive"}`: the process answers. It says nothing of dependencies on purpose: a
 * session store, issuer or OPA that is down is down for every replica alike, and a check that
 * failed then would take them all out (or restart them) without helping.
 */
export function writeAlive(res: ServerResponse): void {
  writeJson(res, 200, '{"status":"alive"}', { 'cache-control': 'no-store' });
}

/**
 * Operator endpoints: `/livez` (the process answers), `/readyz` (503 while a critical dependency
 * is down, with the reason), `/healthz` (figures and the same checks), Prometheus metrics, and the
 * OPA policy bundle (`policy.delivery: bundle`; its own bearer token). The others carry no authentication and tell
 * what runs behind the gateway (backend URLs, figures), so they are meant for a listener only
 * operators reach: the admin listener (`admin.port`; always in the Envoy topology), or the MCP
 * listener of a standalone gateway that has none. The approval endpoints of pinned definitions
 * (`/admin/pins/…`, src/standalone/admin-pins.ts) are the exception: they need an admin token.
 * `/livez` tells nothing, so every MCP listener answers it as well (StandaloneServer).
 */
export class AdminEndpoints {
  private readonly pins: PinAdmin | undefined;

  constructor(private readonly core: GatewayCore) {
    this.pins = core.pins ? new PinAdmin(core.pins, core.authenticator, core.config.pinning.adminScope) : undefined;
  }

  /** The answer to `req` if it is an admin request; undefined leaves it to the caller. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | undefined {
    if (this.pins && path.startsWith(`${PINS_PATH}/`)) return this.pins.handle(req, res, path);
    if (req.method !== 'GET') return undefined;
    if (path === '/healthz') return this.health(res);
    if (path === LIVEZ_PATH) return Promise.resolve(writeAlive(res));
    if (path === '/readyz') return Promise.resolve(this.ready(res));
    const { metrics } = this.core.config;
    if (metrics.enabled && path === metrics.path) return this.metrics(res);
    const bundle = this.core.policyBundle;
    if (bundle && path === bundle.endpoint.path) return Promise.resolve(bundle.serve(req, res));
    return undefined;
  }

  /** Prometheus text exposition of this core's registry. */
  private async metrics(res: ServerResponse): Promise<void> {
    const { contentType, body } = await this.core.telemetry.metrics.scrape();
    res.writeHead(200, { 'content-type': contentType, 'cache-control': 'no-store' }).end(body);
  }

  /** Ready or degraded (serving, from what it knew last): 200; not ready: 503. Either way, every check and why. */
  private ready(res: ServerResponse): void {
    const report = this.core.health();
    writeJson(res, report.status === 'not ready' ? 503 : 200, JSON.stringify(report), { 'cache-control': 'no-store' });
  }

  private async health(res: ServerResponse): Promise<void> {
    const snapshot = this.core.catalog.current();
    const source = this.core.catalog.sourceStatus();
    const report = this.core.health();
    const body = {
      status: report.status === 'ready' ? 'ok' : report.status,
      checks: report.checks,
      catalog: { version: snapshot.version, tools: snapshot.tools.size, resources: snapshot.resources.size, resourceTemplates: snapshot.templates.size, prompts: snapshot.prompts.size, backends: snapshot.backends.size, eras: Object.fromEntries(this.core.catalog.eras()), problems: snapshot.problems, source },
      sessions: await this.core.sessions.size().catch(() => null),
      streams: this.core.streams.count,
    };
    writeJson(res, 200, JSON.stringify(body));
  }
}

/** The admin listener: admin endpoints only, behind the same Host allow-list defence as `/mcp`. */
export class AdminServer {
  private readonly server: Server;

  constructor(core: GatewayCore) {
    const { admin } = core.config;
    const endpoints = new AdminEndpoints(core);
    const hostAllowed = hostMatcher(effectiveAllowedHosts(admin.allowedHosts, admin.host));
    this.server = createServer({ requestTimeout: 10_000, headersTimeout: 10_000 }, (req, res) => {
      const refused = hostRejection(hostAllowed(req.headers.host), req.headers.host);
      if (refused?.kind === 'reject') return writeJson(res, refused.status, JSON.stringify(refused.body));
      const answer = endpoints.handle(req, res, (req.url ?? '/').split('?')[0]!);
      if (!answer) return writeJson(res, 404, JSON.stringify({ error: 'not found' }));
      answer.catch((err: unknown) => {
        core.logger.error({ err }, 'admin request failed');
        if (res.headersSent) res.destroy();
        else writeJson(res, 500, JSON.stringify({ error: 'internal error' }));
      });
    });
  }

  /** Start listening; resolves with the listener's base URL. */
  listen(host: string, port: number): Promise<string> {
    return listenOn(this.server, host, port);
  }

  close(): Promise<void> {
    return closeNow(this.server);
  }
}
