import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { parseConfig } from '../../src/config/load.js';
import type { GatewayConfig } from '../../src/config/schema.js';
import { runExtProc, type RunningExtProc } from '../../src/extproc/run.js';
import { runStandalone, type RunningGateway } from '../../src/standalone/run.js';

export type TestGateway = RunningGateway;

/** A configuration from a plain object, for tests: logs silenced, audit off unless asked for, a free port. */
export function testConfig(raw: Record<string, unknown>): Readonly<GatewayConfig> {
  const logging = { level: process.env.TEST_LOG_LEVEL ?? 'silent' };
  return parseConfig({ logging, audit: { sink: 'off' }, ...raw, server: { port: 0, ...(raw.server as object) } });
}

/** A real standalone gateway on a free loopback port. */
export function startGateway(raw: Record<string, unknown>): Promise<TestGateway> {
  return runStandalone(testConfig(raw));
}

/** The Envoy topology's gateway process (ext_proc, broker, xDS) on free loopback ports. */
export function startExtProc(raw: Record<string, unknown>): Promise<RunningExtProc> {
  return runExtProc(testConfig(raw));
}

/** Headers every MCP POST carries. */
export const MCP_HEADERS = { 'content-type': 'application/json', accept: 'application/json, text/event-stream' };

/** A raw initialize over fetch; returns the session id. */
export async function rawInitialize(url: string, protocolVersion = '2025-11-25'): Promise<{ sessionId: string; body: any }> {
  const res = await fetch(url, {
    method: 'POST',
    headers: MCP_HEADERS,
    body: JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: { protocolVersion, capabilities: {}, clientInfo: { name: 'raw', version: '1' } } }),
  });
  const body = await jsonOf(res);
  return { sessionId: res.headers.get("mcp-session-id")!, body };
}

/** POST one JSON-RPC message with a session. */
export function rawPost(url: string, sessionId: string | undefined, message: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, ...(sessionId ? { 'mcp-session-id': sessionId } : {}), ...headers },
    body: typeof message === 'string' ? message : JSON.stringify(message),
  });
}

/** The example backends' REST tools, reused by the tests (same mapping as examples/gateway.yaml). */
export const ORDER_TOOLS = [
  {
    name: 'list_orders',
    inputSchema: { type: 'object', properties: { status: { type: 'string' } } },
    annotations: { readOnlyHint: true },
    http: { method: 'GET', path: '/orders' },
  },
  {
    name: 'get_order',
    inputSchema: { type: 'object', properties: { id: { type: 'string', pattern: '^[0-9]+$' } }, required: ['id'] },
    annotations: { readOnlyHint: true },
    http: { method: 'GET', path: '/orders/{id}' },
  },
  {
    name: 'create_order',
    inputSchema: { type: 'object', properties: { item: { type: 'string' }, quantity: { type: 'integer', minimum: 1 } }, required: ['item', 'quantity'] },
    http: { method: 'POST', path: '/orders' },
  },
  {
    name: 'track_order',
    inputSchema: { type: 'object', properties: { id: { type: 'string' }, delayMs: { type: 'integer' } }, required: ['id'] },
    annotations: { readOnlyHint: true },
    http: { method: 'GET', path: '/orders/{id}/events' },
  },
];

/** A response's JSON body, loosely typed for assertions. */
export async function jsonOf(res: Response): Promise<any> {
  return res.json();
}

/**
 * One request with node:http, which sends headers fetch will not let a caller set (`Host`)
 * exactly as given; resolves with the status, headers and body text.
 */
export function rawHttp(url: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: opts.method ?? 'GET', headers: opts.headers ?? {}, setHost: !Object.keys(opts.headers ?? {}).some((k) => k.toLowerCase() === 'host') }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}
