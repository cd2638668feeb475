/**
 * The two things every gRPC service of the gateway (ext_proc, xDS) does the same way with a
 * grpc-js `Server`: bind without TLS (Envoy reaches them on a private network or loopback), and
 * stop gracefully with a deadline.
 */
import { Server, ServerCredentials } from '@grpc/grpc-js';
import { createServer } from 'node:net';
import { hostPort, unbracket } from './net.js';

/**
 * A grpc-js server as the gateway's services want it: without channelz, which on every call
 * allocates a tracker and stamps the time on every message for an introspection service the
 * gateway never registers (an Envoy request is one ext_proc stream of a few messages).
 */
export function newGrpcServer(): Server {
  return new Server({ 'grpc.enable_channelz': 0 });
}

/**
 * Whether `host:port` can be bound, found by binding it for a moment: grpc-js writes its own error
 * line to stderr before it reports a taken address, so it is asked only when the address is free
 * and an operator sees one clear message (src/listen-error.ts) instead of two.
 */
async function assertBindable(host: string, port: number): Promise<void> {
  const probe = createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, unbracket(host), () => resolve());
  });
  await new Promise((resolve) => probe.close(resolve));
}

/** Bind `host:port` (IPv6 literals bracketed); resolves with the bound port (a free one for 0). */
export async function bindInsecure(server: Server, host: string, port: number): Promise<number> {
  if (port !== 0) await assertBindable(host, port);
  return new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(host, port), ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound)));
  });
}

/** Stop accepting calls; let open ones finish for `graceMs`, then (after `beforeCut`) cut them. */
export function shutdownGracefully(server: Server, graceMs: number, beforeCut?: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(() => {
      beforeCut?.();
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolve();
    });
  });
}
