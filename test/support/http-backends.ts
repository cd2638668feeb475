import { createServer, type Server } from 'node:http';
import { closeServer, listen } from '../../examples/backends/listen.js';

export interface TestServer {
  readonly url: string;
  readonly hits: { count: number };
  close(): Promise<void>;
}

async function serve(server: Server, hits: { count: number }): Promise<TestServer> {
  return { url: await listen(server), hits, close: () => closeServer(server) };
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
  return serve(server, hits);
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
  return serve(server, hits);
}

/** A loopback URL where nothing listens (connection refused: the request never reaches anyone). */
export async function deadUrl(): Promise<string> {
  const server = createServer();
  const url = await listen(server);
  await closeServer(server);
  return url;
}

/** Starts an NDJSON stream, sends one line, then drops the connection mid-answer. */
export function startBrokenStreamServer(): Promise<TestServer> {
  const hits = { count: 0 };
  const server = createServer((req, res) => {
    hits.count++;
    req.resume();
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"step":1}\n');
    setTimeout(() => res.socket?.destroy(), 50);
  });
  return serve(server, hits);
}

export interface GatedProxy extends TestServer {
  /** While true, `initialize` requests get no answer (and count in `hits`); the rest pass. */
  holdInitialize: boolean;
  /** While true, `initialize` requests get HTTP 500. */
  failInitialize: boolean;
  /** While set, `tools/call` requests get this HTTP status (and no body) instead of the backend's answer. */
  failCalls?: number;
  /** While set, `tools/call` requests wait this long before they are failed or passed on. */
  delayCallsMs?: number;
  /** Headers added to every answer (a backend that sets headers it should not). */
  answerHeaders: Record<string, string>;
  /** The request headers of every `tools/call` that reached it, oldest first. */
  readonly callHeaders: Array<Readonly<Record<string, string | string[] | undefined>>>;
  /** Let the held `initialize` requests go on to the backend. */
  release(): void;
}

/** Passes every request to `target`, except that it can hold `initialize` requests forever. */
export async function startGatedProxy(target: string): Promise<GatedProxy> {
  const hits = { count: 0 };
  const held: Array<() => void> = [];
  const upstream = new URL(target);
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks);
    if (body.includes('"method":"tools/call"')) proxy.callHeaders.push({ ...req.headers });
    if (proxy.holdInitialize && body.includes('"method":"initialize"')) {
      hits.count++;
      // Held: the connection stays open, unanswered, until `release()`.
      await new Promise<void>((resolve) => held.push(resolve));
    }
    if (proxy.failInitialize && body.includes('"method":"initialize"')) return void res.writeHead(500).end();
    if (proxy.delayCallsMs && body.includes('"method":"tools/call"')) await new Promise((r) => setTimeout(r, proxy.delayCallsMs));
    if (proxy.failCalls && body.includes('"method":"tools/call"')) return void res.writeHead(proxy.failCalls, proxy.answerHeaders).end();
    const hopByHop = new Set(['host', 'connection', 'keep-alive', 'content-length', 'transfer-encoding']);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string' && !hopByHop.has(k)) headers[k] = v;
    try {
      const answer = await fetch(new URL(req.url ?? '/', upstream), { method: req.method, headers, body: req.method === 'GET' || req.method === 'HEAD' ? undefined : body });
      res.writeHead(answer.status, { ...Object.fromEntries([...answer.headers].filter(([k]) => !hopByHop.has(k))), ...proxy.answerHeaders });
      if (answer.body) for await (const c of answer.body) res.write(c);
      res.end();
    } catch {
      // The backend went away mid-answer (a long GET stream when the test stops it): so does this answer.
      res.destroy();
    }
  });
  const url = await listen(server);
  const proxy: GatedProxy = { url: new URL(upstream.pathname, url).toString(), hits, holdInitialize: false, failInitialize: false, answerHeaders: {}, callHeaders: [], release: () => held.splice(0).forEach((go) => go()), close: () => closeServer(server) };
  return proxy;
}
