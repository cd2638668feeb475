/**
 * The two things every gRPC service of the gateway (ext_proc, xDS) does the same way with a
 * grpc-js `Server`: bind without TLS (Envoy reaches them on a private network or loopback), and
 * stop gracefully with a deadline.
 */
import { ServerCredentials, type Server } from '@grpc/grpc-js';
import { hostPort } from './net.js';

/** Bind `host:port` (IPv6 literals bracketed); resolves with the bound port (a free one for 0). */
export function bindInsecure(server: Server, host: string, port: number): Promise<number> {
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
