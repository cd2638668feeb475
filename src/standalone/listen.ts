import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostPort } from '../net.js';

/** Listen on `host:port` (0: a free port); resolves with the base URL (`http://host:port`). */
export async function listenOn(server: Server, host: string, port: number): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
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
