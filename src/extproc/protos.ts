/**
 * Loads Envoy's ext_proc service definition at run time. The `.proto` files are not copied into
 * this repository: they ship in the `deps/` folder of `@grpc/grpc-js-xds` (envoy-api, xds,
 * googleapis, protoc-gen-validate), so upgrading that package upgrades the API in one step.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { loadPackageDefinition, type GrpcObject, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/** The fully-qualified ext_proc service. */
export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';

const EXT_PROC_PROTO = 'envoy/service/ext_proc/v3/external_processor.proto';

/**
 * How messages are turned into objects: field names as in the `.proto` (snake_case), a virtual
 * field per `oneof` naming the branch that is set, bytes as Buffers, enums by name.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, oneofs: true, longs: String, enums: String, bytes: Buffer, defaults: false };

/** The folders of `@grpc/grpc-js-xds/deps` that resolve the imports of the ext_proc proto. */
export function envoyProtoDirs(): string[] {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(root, d));
}

export interface ExtProcProtos {
  /** Service definition for `Server.addService`. */
  readonly service: ServiceDefinition;
  /** Client constructor, for tests that play Envoy. */
  readonly Client: ServiceClientConstructor;
}

let cached: ExtProcProtos | undefined;

/** Parse the protos once per process (a few hundred milliseconds); later calls reuse the result. */
export function loadExtProcProtos(): ExtProcProtos {
  if (cached) return cached;
  const definition = loadSync(EXT_PROC_PROTO, { ...LOADER_OPTIONS, includeDirs: envoyProtoDirs() });
  const grpcObject = loadPackageDefinition(definition);
  const Client = lookup(grpcObject, EXT_PROC_SERVICE) as ServiceClientConstructor;
  cached = { service: Client.service, Client };
  return cached;
}

function lookup(root: GrpcObject, name: string): unknown {
  let node: unknown = root;
  for (const part of name.split('.')) node = (node as Record<string, unknown>)[part];
  if (typeof node !== 'function') throw new Error(`${name} is missing from the loaded protos`);
  return node;
}
