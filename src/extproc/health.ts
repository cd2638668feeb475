/**
 * The standard gRPC health service (`grpc.health.v1.Health`) on the ext_proc port, for Envoy's
 * active health checks of the `extproc` cluster (envoy/envoy.yaml): a replica whose process stopped
 * answering (a stuck event loop, a long pause) still accepts TCP connections, so only a check that
 * needs an answer takes it out before requests wait for ext_proc's message timeout on it. A
 * replica that is stopping closes its port (Envoy's next check then fails); a watch already open
 * hears NOT_SERVING first.
 *
 * The service is small and fixed, so it is described here rather than loaded from a `.proto` file,
 * and written here rather than taken from the `grpc-health-check` package: two methods, and one
 * status for the whole server, do not need another dependency.
 */
import { status as GrpcStatus, type sendUnaryData, type ServerUnaryCall, type ServerWritableStream, type ServiceDefinition, type UntypedServiceImplementation } from '@grpc/grpc-js';
import { fromJSON } from '@grpc/proto-loader';
import { LOADER_OPTIONS } from '../envoy-protos.js';

/** `grpc.health.v1.HealthCheckResponse.ServingStatus`, by name (LOADER_OPTIONS: enums as strings). */
export type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

interface HealthCheckRequest {
  service?: string;
}
interface HealthCheckResponse {
  status: ServingStatus;
}

const HEALTH_PROTO = {
  nested: {
    grpc: {
      nested: {
        health: {
          nested: {
            v1: {
              nested: {
                HealthCheckRequest: { fields: { service: { type: 'string', id: 1 } } },
                HealthCheckResponse: {
                  fields: { status: { type: 'ServingStatus', id: 1 } },
                  nested: { ServingStatus: { values: { UNKNOWN: 0, SERVING: 1, NOT_SERVING: 2, SERVICE_UNKNOWN: 3 } } },
                },
                Health: {
                  methods: {
                    Check: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse' },
                    Watch: { requestType: 'HealthCheckRequest', responseType: 'HealthCheckResponse', responseStream: true },
                  },
                },
              },
            },
          },
        },
      },
    },
  },
};

/** The service definition, for `Server.addService` (and a test's client). */
export const HEALTH_SERVICE = fromJSON(HEALTH_PROTO as Parameters<typeof fromJSON>[0], LOADER_OPTIONS)['grpc.health.v1.Health'] as ServiceDefinition;

/**
 * The health of one gRPC server: the whole server (`service` "") and the services it names, all
 * with one status. `Watch` streams the status now and whenever it changes.
 */
export class Health {
  private status: ServingStatus = 'SERVING';
  private readonly watchers = new Set<ServerWritableStream<HealthCheckRequest, HealthCheckResponse>>();

  constructor(private readonly services: readonly string[]) {}

  /** Say NOT_SERVING from now on (the server is stopping); open watches hear it and end. */
  stopping(): void {
    this.status = 'NOT_SERVING';
    for (const w of this.watchers) {
      // A watch of a service this server does not have saw SERVICE_UNKNOWN, which does not change.
      if (this.of(w.request.service) !== 'SERVICE_UNKNOWN') w.write({ status: this.status });
      w.end();
    }
    this.watchers.clear();
  }

  /** The handlers for `Server.addService(HEALTH_SERVICE, …)`. */
  handlers(): UntypedServiceImplementation {
    return {
      // As the protocol says: an unknown service is NOT_FOUND to Check, SERVICE_UNKNOWN to Watch.
      Check: (call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, done: sendUnaryData<HealthCheckResponse>) => {
        const status = this.of(call.request.service);
        if (status === 'SERVICE_UNKNOWN') done({ code: GrpcStatus.NOT_FOUND, details: `unknown service ${call.request.service}` });
        else done(null, { status });
      },
      Watch: (call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>) => {
        call.write({ status: this.of(call.request.service) });
        if (this.status !== 'SERVING') return void call.end();
        this.watchers.add(call);
        call.on('cancelled', () => this.watchers.delete(call));
      },
    };
  }

  private of(service: string | undefined): ServingStatus {
    return !service || this.services.includes(service) ? this.status : 'SERVICE_UNKNOWN';
  }
}
