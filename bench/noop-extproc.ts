/**
 * A bench-only ext_proc service that lets everything through unchanged: the floor of any
 * ext_proc written in Node. It gets the same messages per MCP POST as the gateway gets for a
 * routed call (request headers, and the whole body streamed right behind them: bench/envoys.ts
 * mirrors envoy/envoy.yaml) on the same grpc-js stack and stream lifecycle, but answers each at
 * once and does no admission, routing or session work. Between plain Envoy and the
 * real topology it splits the added time into "the ext_proc round trips themselves" and "what
 * the gateway does in them".
 */
import type { ServerDuplexStream } from '@grpc/grpc-js';
import { bindInsecure, newGrpcServer, shutdownGracefully } from '../src/grpc-server.js';
import type { ProcessingRequest, ProcessingResponse } from '../src/extproc/messages.js';
import { loadExtProcProtos } from '../src/extproc/protos.js';

function answer(req: ProcessingRequest): ProcessingResponse {
  switch (req.request) {
    case 'request_headers':
      return { request_headers: { response: {} } };
    case 'request_body':
      return { request_body: { response: {} } };
    default:
      return { response_headers: { response: {} } };
  }
}

/** Start on 127.0.0.1 and a free port. */
export async function startNoopExtProc(): Promise<{ port: number; stop(): Promise<void> }> {
  const server = newGrpcServer();
  server.addService(loadExtProcProtos().service, {
    Process: (call: ServerDuplexStream<ProcessingRequest, ProcessingResponse>) => {
      call.on('data', (req: ProcessingRequest) => call.write(answer(req)));
      // Half-close when Envoy does, as the gateway's service does.
      call.on('end', () => call.end());
      call.on('error', () => undefined);
    },
  });
  const port = await bindInsecure(server, '127.0.0.1', 0);
  return { port, stop: () => shutdownGracefully(server, 1_000) };
}
