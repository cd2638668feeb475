import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostPort } from '../net.js';

/**
 * Connections the kernel may hold for the server before it accepts them. Node's default (511)
 * overflows when a thousand clients connect at once (a restart, a reconnect storm, or Envoy opening
 * one HTTP/1 connection per open exchange): the rest wait for a SYN retry and fail their connect
 * timeout. The kernel caps it at `net.core.somaxconn` (4096 on current Linux).
 */
export const LISTEN_BACKLOG = 4096;

/** Listen on `host:port` (0: a free port); resolves with the base URL (`http://host:port`). */
export async function listenOn(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port, host, backlog: LISTEN_BACKLOG }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const addr = server.address() as AddressInfo;
  return `http://${hostPort(addr.address, addr.port)}`;
}

/** Stop listening and end every open connection, kept-alive and streaming ones included. */
export function closeNow(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
