/**
 * The gRPC Aggregated Discovery Service Envoy's `ads_config` points at: clusters (CDS) and their
 * endpoints (EDS) for the native MCP backends, State-of-the-World on one stream per Envoy. The
 * incremental `DeltaAggregatedResources` is left unimplemented (gRPC answers UNIMPLEMENTED), so
 * Envoy must be configured with `api_type: GRPC`.
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { bindInsecure, newGrpcServer, shutdownGracefully } from '../grpc-server.js';
import type { Logger } from 'pino';
import type { XdsSnapshot } from './clusters.js';
import { loadAdsProtos } from './protos.js';
import { encodeSnapshot, type EncodedSnapshot } from './resources.js';
import { AdsStream, type DiscoveryRequest, type DiscoveryResponse } from './stream.js';

export interface XdsServerOptions {
  readonly logger: Logger;
  /** How long `stop()` waits for Envoy to close its connections before cutting them; default 1 s. */
  readonly shutdownGraceMs?: number;
}

/** One gRPC server for all Envoys; `update()` is the only way content changes. */
export class XdsServer {
  private readonly server = newGrpcServer();
  private readonly streams = new Map<ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>, AdsStream>();
  private current: EncodedSnapshot | undefined;
  private rejected = 0;

  constructor(private readonly opts: XdsServerOptions) {
    this.server.addService(loadAdsProtos().service, {
      StreamAggregatedResources: (call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>) => this.stream(call),
    });
  }

  /** Bind (127.0.0.1 and a free port by default); resolves with the bound port. */
  async start(host = '127.0.0.1', port = 0): Promise<number> {
    return bindInsecure(this.server, host, port);
  }

  /** End every stream and stop serving. */
  async stop(): Promise<void> {
    for (const call of this.streams.keys()) call.end();
    this.streams.clear();
    await shutdownGracefully(this.server, this.opts.shutdownGraceMs ?? 1_000);
  }

  /**
   * Serve a new snapshot: every stream gets the clusters and subscribed endpoints that changed,
   * at once. Until the first call, Envoy's requests wait rather than get an empty world.
   */
  update(snapshot: XdsSnapshot): void {
    const next = encodeSnapshot(snapshot);
    if (this.current && sameContent(this.current, next)) return;
    this.current = next;
    const endpoints = snapshot.clusters.reduce((n, c) => n + c.endpoints.length, 0);
    this.opts.logger.info({ clusters: snapshot.clusters.length, endpoints, streams: this.streams.size }, 'xds snapshot updated');
    for (const stream of this.streams.values()) stream.push(next);
  }

  /** How many updates Envoys have rejected (NACKs) since start; each is logged at warn. */
  get nacks(): number {
    return this.rejected;
  }

  /** Open ADS streams (one per connected Envoy). */
  get streamCount(): number {
    return this.streams.size;
  }

  private stream(call: ServerDuplexStream<DiscoveryRequest, DiscoveryResponse>): void {
    const send = (res: DiscoveryResponse): void => {
      if (!call.cancelled && call.writable) call.write(res);
    };
    const ads = new AdsStream(send, this.opts.logger, { nack: () => void this.rejected++ });
    this.streams.set(call, ads);
    const close = (): void => void this.streams.delete(call);
    call.on('data', (req: DiscoveryRequest) => ads.onRequest(req, this.current));
    call.on('end', () => {
      close();
      call.end();
    });
    call.on('cancelled', close);
    call.on('error', (err) => {
      this.opts.logger.debug({ err }, 'xds stream error');
      close();
    });
  }
}

function sameContent(a: EncodedSnapshot, b: EncodedSnapshot): boolean {
  if (a.size !== b.size) return false;
  for (const [type, resources] of a) {
    const other = b.get(type);
    if (!other || other.size !== resources.size) return false;
    for (const [name, r] of resources) if (!other.get(name)?.value.equals(r.value)) return false;
  }
  return true;
}
