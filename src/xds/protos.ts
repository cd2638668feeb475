/**
 * Envoy's xDS definitions, loaded at run time from the `deps/` folder of `@grpc/grpc-js-xds` like
 * the ext_proc protos (never copied here). Two loaders, two jobs:
 * - `@grpc/proto-loader` gives the ADS service definition gRPC serves;
 * - `protobufjs` encodes the `Cluster` and `ClusterLoadAssignment` resources. It is a direct
 *   dependency pinned to exactly the version `@grpc/proto-loader` brings, so the tree keeps one
 *   copy. Resources travel as `google.protobuf.Any`,
 *   whose `value` is the encoded message: proto-loader only serialises whole RPC messages, so the
 *   bytes inside the Any need the message types themselves. Having the bytes also gives versions
 *   that change exactly when the content does.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { envoyProtoDirs, loadEnvoyService, type EnvoyService } from '../envoy-protos.js';

/** The fully-qualified ADS service Envoy's `ads_config` calls. */
const ADS_SERVICE = 'envoy.service.discovery.v3.AggregatedDiscoveryService';

/** Resource type URLs, as they appear in requests, responses and `Any.type_url`. */
export const TYPE_URL = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
} as const;

export interface ResourceTypes {
  readonly cluster: protobuf.Type;
  readonly endpoints: protobuf.Type;
}

let ads: EnvoyService | undefined;
let types: ResourceTypes | undefined;

/** Parse the ADS service once per process; later calls reuse it. */
export function loadAdsProtos(): EnvoyService {
  ads ??= loadEnvoyService('envoy/service/discovery/v3/ads.proto', ADS_SERVICE);
  return ads;
}

/** The `Cluster` and `ClusterLoadAssignment` message types, parsed once per process. */
export function resourceTypes(): ResourceTypes {
  if (types) return types;
  const root = new protobuf.Root();
  // protobufjs bundles most well-known types but not descriptor.proto, which the validate and
  // udpa annotations import; it ships that file beside its bundle.
  const dirs = [...envoyProtoDirs(), dirname(createRequire(import.meta.url).resolve('protobufjs/package.json'))];
  root.resolvePath = (_origin, target) => dirs.map((d) => join(d, target)).find((p) => existsSync(p)) ?? target;
  root.loadSync(['envoy/config/cluster/v3/cluster.proto', 'envoy/config/endpoint/v3/endpoint.proto'], { keepCase: true });
  root.resolveAll();
  types = { cluster: root.lookupType('envoy.config.cluster.v3.Cluster'), endpoints: root.lookupType('envoy.config.endpoint.v3.ClusterLoadAssignment') };
  return types;
}
