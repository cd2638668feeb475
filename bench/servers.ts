/**
 * Child-process entry that hosts the systems under test, so the load generator (the parent)
 * never shares an event loop with them. Two roles, one process each:
 *   `backends`            the orders REST API, the echo and docs MCP servers, the 2026-07-28 echo
 *                         server (bench/stateless-echo.ts) and a stub REST server;
 *   `gateway <urls-json>` three gateways: calls (tools, reads, prompts), the 1,000-entry listings
 *                         (1,000 tools, 1,000 resources) at page size 1000, and at 500;
 *   `extproc <urls-json>` the Envoy topology's gateway process (ext_proc, broker, xDS) for tool calls,
 *                         and beside it a do-nothing ext_proc service (bench/noop-extproc.ts);
 *   `sampler`             an SDK server whose tool asks the client model once (bench/relay.ts);
 *   `relay-gateway <url>` a standalone gateway in front of the sampler.
 * The child reports `{ type: 'ready', urls }` over IPC, stops on `{ type: 'stop' }`, and exits by
 * itself when the parent goes away (IPC disconnect), so no server outlives a crashed bench.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { runExtProc } from '../src/extproc/run.js';
import { runStandalone } from '../src/standalone/run.js';
import { startOrdersApi } from '../examples/backends/orders-api.js';
import { startDocsServer, startEchoServer } from './echo-mcp.js';
import { startStatelessEchoServer } from './stateless-echo.js';
import { startNoopExtProc } from './noop-extproc.js';
import { callsConfig, GATEWAY_BASE, listingConfig, type BackendUrls } from './configs.js';
import { startSamplingServer } from './sampling-mcp.js';
import { parseConfig } from '../src/config/load.js';

/** What a child reports once listening. */
export type ReadyMessage = { type: 'ready'; urls: Record<string, string> };

type Stopper = () => Promise<unknown>;

/**
 * A node:http server that answers `{}`: listing-only backends need a real, reachable URL. It also
 * serves `/blob?bytes=N`, a pre-encoded JSON body of exactly N bytes: the floor for moving a
 * `tools/list` page of that size to the client, with no gateway work at all.
 */
async function startStub(): Promise<{ url: string; close: Stopper }> {
  const blobs = new Map<number, Buffer>();
  const blob = (n: number): Buffer => {
    let b = blobs.get(n);
    if (!b) blobs.set(n, (b = Buffer.from(`{"p":"${'x'.repeat(Math.max(0, n - 8))}"}`)));
    return b;
  };
  const server = createServer((req, res) => {
    const m = /^\/blob\?bytes=(\d{1,8})$/.exec(req.url ?? '');
    const body = m ? blob(Number(m[1])) : '{}';
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () => new Promise<void>((r) => { server.close(() => r()); server.closeAllConnections(); }),
  };
}

async function startBackends(): Promise<{ urls: BackendUrls; stoppers: Stopper[] }> {
  const [orders, echo, docs, stub, stateless] = await Promise.all([startOrdersApi(), startEchoServer(), startDocsServer(), startStub(), startStatelessEchoServer()]);
  return {
    urls: { orders: orders.url, echo: echo.url, docs: docs.url, stub: stub.url, stateless: stateless.url },
    stoppers: [orders.close, echo.close, docs.close, stub.close, stateless.close],
  };
}

async function startGateways(backends: BackendUrls): Promise<{ urls: Record<string, string>; stoppers: Stopper[] }> {
  const listen = { host: '127.0.0.1', port: 0 };
  const calls = await runStandalone(callsConfig(backends), listen);
  const list1000 = await runStandalone(listingConfig(backends, 1000), listen);
  const list500 = await runStandalone(listingConfig(backends, 500), listen);
  return { urls: { calls: calls.url, list1000: list1000.url, list500: list500.url }, stoppers: [calls.stop, list1000.stop, list500.stop] };
}

/**
 * The gateway Envoy consults, configured like the standalone tool-call gateway (so the echo
 * backend is a native `kind: mcp` backend Envoy reaches over xDS). Ports go out as
 * `host:port` strings because the ready message carries strings.
 */
async function startExtProc(backends: BackendUrls): Promise<{ urls: Record<string, string>; stoppers: Stopper[] }> {
  const gw = await runExtProc(callsConfig(backends));
  // Same process as the gateway, so both ext_proc services get the same scheduling; only one is under load at a time.
  const noop = await startNoopExtProc();
  return { urls: { broker: gw.brokerUrl, extproc: `127.0.0.1:${gw.extprocPort}`, xds: `127.0.0.1:${gw.xdsPort}`, noop: `127.0.0.1:${noop.port}` }, stoppers: [gw.stop, noop.stop] };
}

/** The backend of `npm run bench:relay`: an SDK server whose tool asks the client model once. */
async function startSampler(): Promise<{ urls: Record<string, string>; stoppers: Stopper[] }> {
  const s = await startSamplingServer();
  return { urls: { sampler: s.url }, stoppers: [() => s.close()] };
}

/** A standalone gateway in front of the sampler, prefix '' so the tool keeps its name. */
async function startRelayGateway(sampler: string): Promise<{ urls: Record<string, string>; stoppers: Stopper[] }> {
  const gw = await runStandalone(parseConfig({ ...GATEWAY_BASE, backends: [{ name: 'sampler', kind: 'mcp', urls: [sampler], prefix: '' }] }));
  for (const end = Date.now() + 10_000; !gw.core.catalog.current().tools.has('sample'); await new Promise((r) => setTimeout(r, 25))) {
    if (Date.now() > end) throw new Error('the sampler was not discovered in 10 s');
  }
  return { urls: { gateway: gw.url }, stoppers: [gw.stop] };
}

async function main(): Promise<void> {
  const role = process.argv[2];
  const started =
    role === 'backends' ? await startBackends()
    : role === 'gateway' ? await startGateways(JSON.parse(process.argv[3] ?? '{}') as BackendUrls)
    : role === 'extproc' ? await startExtProc(JSON.parse(process.argv[3] ?? '{}') as BackendUrls)
    : role === 'sampler' ? await startSampler()
    : role === 'relay-gateway' ? await startRelayGateway(process.argv[3] ?? '')
    : undefined;
  if (!started || !process.send) throw new Error('usage: forked by bench/run.js or bench/envoy.js with role "backends", "gateway <urls-json>" or "extproc <urls-json>"');
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(started.stoppers.map((s) => s()));
    // A normal exit (not a signal) lets `--cpu-prof` write its profile.
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => void (m?.type === 'stop' && stop()));
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  const ready: ReadyMessage = { type: 'ready', urls: { ...started.urls } };
  process.send(ready);
}

main().catch((err: unknown) => {
  console.error('bench servers failed:', err);
  process.exit(1);
});
