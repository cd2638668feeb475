/**
 * The gRPC health service on the ext_proc port, which Envoy's active health checks ask
 * (envoy/envoy.yaml's `extproc` cluster): SERVING while the replica serves, as the grpc.health.v1
 * protocol has it, asked by a real grpc-js client. A stopping replica closes its port; a watch
 * already open hears NOT_SERVING before it ends.
 */
import { credentials, makeClientConstructor, type Client, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { HEALTH_SERVICE } from '../../src/extproc/health.js';
import { startExtProc } from '../support/gateway.js';

type HealthClient = Client & {
  Check(req: { service: string }, done: (err: ServiceError | null, res?: { status: string }) => void): void;
  Watch(req: { service: string }): ClientReadableStream<{ status: string }>;
};

let gw: RunningExtProc;
let client: HealthClient;

beforeAll(async () => {
  gw = await startExtProc({ backends: [] });
  const Health = makeClientConstructor(HEALTH_SERVICE, 'grpc.health.v1.Health');
  client = new Health(`127.0.0.1:${gw.extprocPort}`, credentials.createInsecure()) as unknown as HealthClient;
});

afterAll(async () => {
  client?.close();
  await gw?.stop();
});

const check = (service: string): Promise<{ status?: string; code?: number }> =>
  new Promise((resolve) => client.Check({ service }, (err, res) => resolve(err ? { code: err.code } : { status: res!.status })));

describe('the health service on the ext_proc port', () => {
  it('answers SERVING for the server and for the ext_proc service, NOT_FOUND for another; an open watch hears NOT_SERVING when the replica stops', async () => {
    expect(await check('')).toEqual({ status: 'SERVING' });
    expect(await check('envoy.service.ext_proc.v3.ExternalProcessor')).toEqual({ status: 'SERVING' });
    expect(await check('some.other.Service')).toEqual({ code: 5 }); // NOT_FOUND
    const watch = client.Watch({ service: '' });
    const seen: string[] = [];
    const ended = new Promise<void>((resolve) => {
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('end', resolve);
      watch.on('error', () => resolve());
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(seen).toEqual(['SERVING']);
    // Stopping: an open watch hears NOT_SERVING and ends; new checks find the server gone.
    const stopping = gw.extproc.stop(2_000);
    await ended;
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
    await stopping;
  });
});
