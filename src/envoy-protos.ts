/**
 * Envoy's API protos, loaded at run time. The `.proto` files are not copied into this
 * repository: they ship in the `deps/` folder of `@grpc/grpc-js-xds` (envoy-api, xds,
 * googleapis, protoc-gen-validate), so upgrading that package upgrades the API in one step.
 * Shared by the ext_proc and xDS servers.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { makeClientConstructor, type ServiceClientConstructor, type ServiceDefinition } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';

/**
 * How messages are turned into objects: field names as in the `.proto` (snake_case), a virtual
 * field per `oneof` naming the branch that is set, bytes as Buffers, enums by name.
 */
export const LOADER_OPTIONS: Options = { keepCase: true, oneofs: true, longs: String, enums: String, bytes: Buffer, defaults: false };

/** The folders of `@grpc/grpc-js-xds/deps` that resolve the imports of Envoy's protos. */
export function envoyProtoDirs(): string[] {
  const require = createRequire(import.meta.url);
  const root = join(dirname(require.resolve('@grpc/grpc-js-xds/package.json')), 'deps');
  return ['envoy-api', 'xds', 'googleapis', 'protoc-gen-validate'].map((d) => join(root, d));
}

/** One gRPC service of Envoy's API. */
export interface EnvoyService {
  /** Service definition for `Server.addService`. */
  readonly service: ServiceDefinition;
  /** Client constructor, for tests that play Envoy. */
  readonly Client: ServiceClientConstructor;
}

/** Parse `protoFile` (a few hundred milliseconds: callers cache the result) and take one service from it. */
export function loadEnvoyService(protoFile: string, serviceName: string): EnvoyService {
  const definition = loadSync(protoFile, { ...LOADER_OPTIONS, includeDirs: envoyProtoDirs() });
  const service = definition[serviceName] as ServiceDefinition | undefined;
  if (!service) throw new Error(`${serviceName} is missing from ${protoFile}`);
  return { service, Client: makeClientConstructor(service, serviceName) };
}
