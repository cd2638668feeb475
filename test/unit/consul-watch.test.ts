/**
 * The Consul watch (the `consul` package's watch plus the adapter in src/catalog/consul/watch.ts)
 * against a real node:http server on port 0 that answers as Consul would, one scripted answer per
 * request, so the blocking-query parameters it sends can be checked one by one.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { consulClient, type ConsulError } from '../../src/catalog/consul/client.js';
import { watchConsul } from '../../src/catalog/consul/watch.js';

/** One answer: an index (with a KV folder holding the index as body), or an HTTP error status. */
type Answer = { index: number } | { status: number };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
});

/** A scripted Consul; `requests` records what each read asked for. Past the script it holds the read, as a blocking query with nothing new. */
async function scriptedConsul(script: Answer[]): Promise<{ url: string; requests: IncomingMessage[]; done: Promise<void> }> {
  const requests: IncomingMessage[] = [];
  let finish!: () => void;
  const done = new Promise<void>((r) => (finish = r));
  server = createServer((req, res) => {
    requests.push(req);
    const a = script.shift();
    if (script.length === 0) finish();
    if (!a) return;
    if ('status' in a) return void res.writeHead(a.status, { 'content-type': 'text/plain' }).end('scripted failure');
    res.writeHead(200, { 'content-type': 'application/json', 'x-consul-index': String(a.index) }).end(JSON.stringify([{ Key: 'mcp/tools/at', Value: Buffer.from(String(a.index)).toString('base64') }]));
  });
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server!.address() as AddressInfo).port}`, requests, done };
}

/** Watch the service list at `url` and collect the failures; `stop` ends the watch and the client. */
function watchFailures(url: string, waitSeconds: number): { errors: ConsulError[]; stop: () => void } {
  const client = consulClient({ url });
  const abort = new AbortController();
  const errors: ConsulError[] = [];
  watchConsul(client, {
    read: (o) => client.catalog.service.list(o),
    what: '/v1/catalog/services',
    url,
    waitSeconds,
    retryMaxMs: 10,
    onData: () => {},
    onSuccess: () => {},
    onError: (err) => void errors.push(err),
    signal: abort.signal,
  });
  return {
    errors,
    stop: () => {
      abort.abort();
      client.destroy();
    },
  };
}

describe('Consul watch', () => {
  it('blocks on the last index, resets an index that goes backwards, and re-reads without blocking after any failure', async () => {
    const consul = await scriptedConsul([
      { index: 5 }, // first read: delivered
      { index: 5 }, // the wait ran out, nothing changed: not delivered
      { index: 9 }, // changed: delivered
      { index: 3 }, // went backwards (a replaced server): delivered, index reset to 0
      { index: 3 }, // read at 0 after the reset: delivered again
      { status: 500 }, // failure
      { index: 3 }, // non-blocking re-read after it: delivered, though the index did not move
      { status: 400 }, // the package alone would give up on a 400
      { index: 4 }, // …the watch goes on
    ]);
    const client = consulClient({ url: consul.url, token: 'secret-token', datacenter: 'dc7' });
    const stop = new AbortController();
    const seen: unknown[] = [];
    const errors: ConsulError[] = [];
    let successes = 0;
    watchConsul(client, {
      read: (o) => client.kv.get({ ...o, key: 'mcp/tools/', recurse: true }),
      what: '/v1/kv/mcp/tools/',
      url: consul.url,
      waitSeconds: 7,
      retryMaxMs: 10,
      minIntervalMs: 0,
      onData: (body) => void seen.push(body),
      onSuccess: () => void successes++,
      onError: (err) => void errors.push(err),
      signal: stop.signal,
    });
    await consul.done;
    await expect.poll(() => consul.requests.length).toBe(10);
    stop.abort();
    client.destroy();

    const asked = consul.requests.map((r) => new URL(r.url!, consul.url).searchParams);
    expect(asked.map((q) => q.get('index'))).toEqual(['0', '5', '5', '9', '0', '3', '0', '3', '0', '4']);
    expect(asked.every((q) => q.get('wait') === '7s' && q.get('recurse') === 'true' && q.get('dc') === 'dc7')).toBe(true);
    expect(consul.requests.every((r) => r.headers['x-consul-token'] === 'secret-token')).toBe(true);
    expect(seen.map((b) => (b as Array<{ Value: string }>)[0]!.Value)).toEqual(['5', '9', '3', '3', '3', '4']);
    expect(successes).toBe(7);
    expect(errors.map((e) => e.message)).toEqual([
      'Consul answered /v1/kv/mcp/tools/ with HTTP 500: scripted failure',
      'Consul answered /v1/kv/mcp/tools/ with HTTP 400: scripted failure',
    ]);
    expect(errors.every((e) => e.code === 'GW_CONSUL_UNAVAILABLE')).toBe(true);
  });

  it('names an unreachable Consul', async () => {
    const consul = await scriptedConsul([{ index: 1 }]);
    server!.close();
    const { errors, stop } = watchFailures(consul.url, 1);
    await expect.poll(() => errors.length).toBeGreaterThanOrEqual(2);
    stop();
    expect(errors[0]!.message).toMatch(new RegExp(`^cannot reach Consul at ${consul.url}: .*ECONNREFUSED`));
  });

  it('gives up connecting after the connect timeout, not after the long timeout of a blocking read', async () => {
    // A listener in a stopped process with a backlog of 1: once two connections wait in its
    // queue, the kernel drops further SYNs, as a host that vanished would.
    const child = spawn(process.execPath, ['-e', "require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, function () { console.log(this.address().port) })"], { stdio: ['ignore', 'pipe', 'inherit'] });
    const fillers: Socket[] = [];
    let stop = (): void => {};
    try {
      const port = Number(String((await once(child.stdout!, 'data'))[0]).trim());
      child.kill('SIGSTOP');
      for (let i = 0; i < 2; i++) {
        const s = connect(port, '127.0.0.1');
        fillers.push(s);
        await once(s, 'connect');
      }
      const url = `http://127.0.0.1:${port}`;
      const watch = watchFailures(url, 30);
      stop = watch.stop;
      await expect.poll(() => watch.errors.length, { timeout: 15_000 }).toBeGreaterThan(0);
      stop();
      expect(watch.errors[0]!.message).toMatch(new RegExp(`^cannot reach Consul at ${url}: .*connect timed out after 2000 ms$`));
    } finally {
      stop();
      for (const s of fillers) s.destroy();
      child.kill('SIGKILL');
    }
  });
});
