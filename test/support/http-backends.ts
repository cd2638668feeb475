import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface TestServer {
  readonly url: string;
  readonly hits: { count: number };
  close(): Promise<void>;
}

async function listen(server: Server, hits: { count: number }): Promise<TestServer> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    hits,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Reads the whole request, then drops the connection without answering: the request reached it. */
export function startDroppingServer(): Promise<TestServer> {
  const hits = { count: 0 };
  const server = createServer((req) => {
    req.resume();
    req.on('end', () => {
      hits.count++;
      req.socket.destroy();
    });
  });
  return listen(server, hits);
}

/** Answers after a delay (for timeouts). */
export function startSlowServer(delayMs: number): Promise<TestServer> {
  const hits = { count: 0 };
  const server = createServer((req, res) => {
    hits.count++;
    req.resume();
    const t = setTimeout(() => res.writeHead(200, { 'content-type': 'application/json' }).end('{"late":true}'), delayMs);
    res.on('close', () => clearTimeout(t));
  });
  return listen(server, hits);
}

/** A loopback URL where nothing listens (connection refused: the request never reaches anyone). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return `http://127.0.0.1:${port}`;
}
