/** Envoy's ext_proc service definition, loaded once per process (see src/envoy-protos.ts). */
import { loadEnvoyService, type EnvoyService } from '../envoy-protos.js';

/** The fully-qualified ext_proc service. */
export const EXT_PROC_SERVICE = 'envoy.service.ext_proc.v3.ExternalProcessor';

let cached: EnvoyService | undefined;

export function loadExtProcProtos(): EnvoyService {
  cached ??= loadEnvoyService('envoy/service/ext_proc/v3/external_processor.proto', EXT_PROC_SERVICE);
  return cached;
}
