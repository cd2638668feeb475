/**
 * Plays Envoy on the ADS stream: a grpc-js client built from the same protos sends the
 * DiscoveryRequests Envoy sends (wildcard CDS, EDS by name, ACKs, NACKs, stale nonces) to the real
 * XdsServer and checks every DiscoveryResponse. gRPC keeps a stream's messages in order, so "the
 * next message is X" also proves that nothing was sent before X.
 */
import { credentials, status, type ClientDuplexStream, type ServiceError } from '@grpc/grpc-js';
import { afterEach, describe, expect, it } from 'vitest';
import type { XdsSnapshot } from '../../src/xds/clusters.js';
import { loadAdsProtos, TYPE_URL } from '../../src/xds/protos.js';
import { decodeResource } from '../../src/xds/resources.js';
import { XdsServer } from '../../src/xds/server.js';
import { waitFor } from '../support/wait.js';
import { capturingLogger } from '../support/logs.js';

const CDS = TYPE_URL.cluster;
const EDS = TYPE_URL.endpoints;
/** A type Envoy may ask for that the gateway does not serve: the answer is always "none". */
const LDS = 'type.googleapis.com/envoy.config.listener.v3.Listener';

/** `{ a: ['10.0.0.1:3000'] }` → a snapshot with cluster `mcp_backend.a`. */
function snap(spec: Record<string, string[]>): XdsSnapshot {
  return {
    clusters: Object.entries(spec).map(([backend, eps]) => ({
      name: `mcp_backend.${backend}`,
      backend,
      endpoints: eps.map((e) => ({ address: e.split(':')[0]!, port: Number(e.split(':')[1]) })),
    })),
  };
}

interface Response {
  version_info: string;
  type_url: string;
  nonce: string;
  resources: Array<{ type_url: string; value: Buffer }>;
}

let servers: XdsServer[] = [];
let streams: Array<{ close(): void }> = [];
const log = capturingLogger();

async function startServer(initial?: XdsSnapshot): Promise<{ server: XdsServer; client: any; open: () => ReturnType<typeof openStream> }> {
  const server = new XdsServer({ logger: log.logger, shutdownGraceMs: 200 });
  servers.push(server);
  if (initial) server.update(initial);
  const port = await server.start();
  const { Client } = loadAdsProtos();
  const client = new Client(`127.0.0.1:${port}`, credentials.createInsecure());
  return { server, client, open: () => openStream(client) };
}

/** One ADS stream: write requests, read responses in order (failing after 5 s without one). */
function openStream(client: any) {
  const call = client.StreamAggregatedResources() as ClientDuplexStream<unknown, Response>;
  const queued: Response[] = [];
  const waiters: Array<(r: Response) => void> = [];
  call.on('data', (r: Response) => (waiters.length > 0 ? waiters.shift()!(r) : queued.push(r)));
  call.on('error', () => undefined);
  const stream = {
    send: (req: Record<string, unknown>) => void call.write(req),
    next(): Promise<Response> {
      if (queued.length > 0) return Promise.resolve(queued.shift()!);
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no DiscoveryResponse within 5 s')), 5_000);
        waiters.push((r) => (clearTimeout(timer), resolve(r)));
      });
    },
    /** Send a request and read the answer. */
    async ask(req: Record<string, unknown>): Promise<Response> {
      stream.send(req);
      return stream.next();
    },
    ack: (res: Response, names: string[] = []) => stream.send({ type_url: res.type_url, version_info: res.version_info, response_nonce: res.nonce, resource_names: names }),
    close: () => call.end(),
  };
  streams.push(stream);
  return stream;
}

const decoded = (res: Response) => (res.resources ?? []).map(decodeResource);
const names = (res: Response) => decoded(res).map((r) => r.name ?? r.cluster_name);
const addresses = (res: Response) =>
  decoded(res).map((a) => `${a.cluster_name}=${(a.endpoints?.[0]?.lb_endpoints ?? []).map((e: any) => `${e.endpoint.address.socket_address.address}:${e.endpoint.address.socket_address.port_value}`).join(',')}`);

afterEach(async () => {
  for (const s of streams) s.close();
  await Promise.all(servers.map((s) => s.stop()));
  servers = [];
  streams = [];
  log.clear();
});

describe('ADS stream, as Envoy drives it', () => {
  it('answers the wildcard CDS request with every cluster, then EDS with only the clusters named', async () => {
    const { open } = await startServer(snap({ a: ['10.0.0.1:3000', '10.0.0.2:3000'], b: ['10.0.0.3:3000'] }));
    const s = open();
    const cds = await s.ask({ node: { id: 'envoy-1', cluster: 'test' }, type_url: CDS });
    expect(cds.type_url).toBe(CDS);
    expect(cds.version_info).not.toBe('');
    expect(decoded(cds).map((c) => [c.name, c.type])).toEqual([['mcp_backend.a', 'EDS'], ['mcp_backend.b', 'EDS']]);
    s.ack(cds);
    const eds = await s.ask({ type_url: EDS, resource_names: ['mcp_backend.a'] });
    expect(eds.type_url).toBe(EDS);
    expect(addresses(eds)).toEqual(['mcp_backend.a=10.0.0.1:3000,10.0.0.2:3000']);
  });

  it('pushes a change at once, sends nothing for an unchanged update, and never resends unchanged clusters', async () => {
    const { server, open } = await startServer(snap({ a: ['10.0.0.1:3000'] }));
    const s = open();
    const cds = await s.ask({ type_url: CDS });
    s.ack(cds);
    const eds = await s.ask({ type_url: EDS, resource_names: ['mcp_backend.a'] });
    s.ack(eds, ['mcp_backend.a']);
    server.update(snap({ a: ['10.0.0.1:3000'] }));
    server.update(snap({ a: ['10.0.0.1:3000', '10.0.0.9:3000'] }));
    const pushed = await s.next();
    expect(pushed.type_url).toBe(EDS);
    expect(addresses(pushed)).toEqual(['mcp_backend.a=10.0.0.1:3000,10.0.0.9:3000']);
    expect(pushed.version_info).not.toBe(eds.version_info);
    s.ack(pushed, ['mcp_backend.a']);
    server.update(snap({ a: ['10.0.0.1:3000', '10.0.0.9:3000'], c: ['10.0.0.4:3000'] }));
    const clusters = await s.next();
    expect(clusters.type_url).toBe(CDS);
    expect(names(clusters)).toEqual(['mcp_backend.a', 'mcp_backend.c']);
  });

  it('answers a name it does not know with nothing, and sends it once it exists', async () => {
    const { server, open } = await startServer(snap({ a: ['10.0.0.1:3000'] }));
    const s = open();
    s.ack(await s.ask({ type_url: CDS }));
    const eds = await s.ask({ type_url: EDS, resource_names: ['mcp_backend.a', 'mcp_backend.later'] });
    expect(names(eds)).toEqual(['mcp_backend.a']);
    s.ack(eds, ['mcp_backend.a', 'mcp_backend.later']);
    server.update(snap({ a: ['10.0.0.1:3000'], later: ['10.0.0.5:3000'] }));
    expect((await s.next()).type_url).toBe(CDS);
    const appeared = await s.next();
    expect(addresses(appeared)).toEqual(['mcp_backend.a=10.0.0.1:3000', 'mcp_backend.later=10.0.0.5:3000']);
  });

  it('treats a NACK as a rejection: logs it, counts it, keeps serving the last version without resending it', async () => {
    const { server, open } = await startServer(snap({ a: ['10.0.0.1:3000'] }));
    const s = open();
    const cds = await s.ask({ type_url: CDS });
    s.send({ type_url: CDS, version_info: '', response_nonce: cds.nonce, error_detail: { code: 3, message: 'cluster mcp_backend.a: bad config' } });
    await waitFor(() => server.nacks === 1, 'the NACK is counted');
    expect(log.lines()).toContainEqual(expect.objectContaining({ level: 40, detail: 'cluster mcp_backend.a: bad config', rejected: cds.version_info }));
    // A reconnecting Envoy gets the same version: the server neither rolls back nor moves on.
    const again = await open().ask({ type_url: CDS });
    expect(again.version_info).toBe(cds.version_info);
    // On the first stream the next message is the next real change, not a repeat of the rejected one.
    server.update(snap({ b: ['10.0.0.2:3000'] }));
    const next = await s.next();
    expect(names(next)).toEqual(['mcp_backend.b']);
    expect(next.version_info).not.toBe(cds.version_info);
  });

  it('ignores a request carrying a stale nonce', async () => {
    const { server, open } = await startServer(snap({ a: ['10.0.0.1:3000'], b: ['10.0.0.2:3000'] }));
    const s = open();
    s.ack(await s.ask({ type_url: CDS }));
    const first = await s.ask({ type_url: EDS, resource_names: ['mcp_backend.a'] });
    server.update(snap({ a: ['10.0.0.7:3000'], b: ['10.0.0.2:3000'] }));
    const second = await s.next();
    // Answers the superseded response: it must not change the subscription or be answered.
    s.send({ type_url: EDS, version_info: first.version_info, response_nonce: first.nonce, resource_names: ['mcp_backend.a', 'mcp_backend.b'] });
    s.ack(second, ['mcp_backend.a']);
    // A barrier: requests are handled in order, so this answer comes after anything the two above caused.
    const barrier = await s.ask({ type_url: LDS });
    expect(barrier.type_url).toBe(LDS);
    expect(decoded(barrier)).toEqual([]);
    server.update(snap({ a: ['10.0.0.8:3000'], b: ['10.0.0.2:3000'] }));
    expect(addresses(await s.next())).toEqual(['mcp_backend.a=10.0.0.8:3000']);
  });

  it('holds requests until the first snapshot instead of answering with an empty world', async () => {
    const { server, open } = await startServer();
    const s = open();
    s.send({ node: { id: 'envoy-early' }, type_url: CDS });
    await waitFor(() => server.streamCount === 1, 'stream open');
    server.update(snap({ a: ['10.0.0.1:3000'] }));
    expect(names(await s.next())).toEqual(['mcp_backend.a']);
  });

  it('answers the incremental (delta) variant with UNIMPLEMENTED', async () => {
    const { client } = await startServer(snap({}));
    const err = await new Promise<ServiceError>((resolve) => {
      const call = client.DeltaAggregatedResources();
      call.on('error', resolve);
      call.write({ type_url: CDS });
    });
    expect(err.code).toBe(status.UNIMPLEMENTED);
  });
});
