/**
 * SSE streams live as long as their client, and a client may stop reading one (stalled, or far
 * behind). Their keep-alive ticks must not pile anything onto that response while its socket is
 * full: on a `subscriptions/listen` stream each tick waited for 'drain', leaving a 'close' and a
 * 'drain' listener behind; on a session's GET stream each tick queued one more comment. Real
 * node:http server and a raw TCP client that never reads; only setInterval is faked, so the ticks
 * run without waiting for them.
 */
import { createServer, type ServerResponse } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { StreamHub } from '../../src/broker/streams.js';
import type { Reply } from '../../src/broker/reply.js';
import { EventLog } from '../../src/events/log.js';
import { MemoryEventStore } from '../../src/events/memory-store.js';
import type { JsonRpcMessage } from '../../src/mcp/jsonrpc.js';
import type { SessionRecord } from '../../src/session/store.js';
import { writeReply } from '../../src/standalone/write.js';
import { waitFor } from '../support/wait.js';

const KEEP_ALIVE_MS = 1000;
const TICKS = 50;
// More than loopback socket buffers take: the response stays behind while the client does not read.
const BIG: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x'.repeat(64 * 1024 * 1024) } };
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Serve `reply` to one client that sends its request and then reads nothing; resolves once the response is behind. */
async function stalledClient(reply: Reply, streams: StreamHub, behind: () => void = () => undefined): Promise<{ res: ServerResponse; written: Promise<void> }> {
  let served: { res: ServerResponse; written: Promise<void> } | undefined;
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const server = createServer((req, res) => {
    req.resume();
    served = { res, written: writeReply(res, reply, { accept: 'text/event-stream', requestId: 'r1', streams, keepAliveMs: KEEP_ALIVE_MS, onError: () => undefined }) };
    behind();
  });
  await listen(server);
  cleanups.push(() => closeServer(server));
  const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
  cleanups.push(() => client.destroy());
  client.pause();
  client.write('GET /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\n\r\n');
  await waitFor(() => served?.res.headersSent === true && served.res.writableNeedDrain, 'the stream to fall behind its client');
  return served!;
}

const hub = (): StreamHub => new StreamHub(new EventLog(new MemoryEventStore(60_000), { maxEventsPerStream: 100, maxBytesPerStream: 1_000_000, maxAgeMs: 60_000, retryMs: 500 }));
const pending = (res: ServerResponse) => ({ close: res.listenerCount('close'), drain: res.listenerCount('drain'), bytes: res.writableLength });

describe('the keep-alive of a stream whose client stopped reading', () => {
  it('adds no listener to a listen stream\'s response, however many ticks pass', async () => {
    const abort = new AbortController();
    async function* messages(): AsyncGenerator<JsonRpcMessage> {
      yield BIG;
      // The stream stays open until the test (or the client's going away) aborts it.
      if (!abort.signal.aborted) await new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true }));
    }
    const session = { id: 'held-1', protocolVersion: '2026-07-28' } as SessionRecord;
    const { res, written } = await stalledClient({ kind: 'messages', session, messages: messages(), abort, finish: () => undefined, keepAlive: true }, hub());
    const before = pending(res);

    vi.advanceTimersByTime(KEEP_ALIVE_MS * TICKS);

    expect(pending(res)).toEqual(before);
    expect(res.writableEnded).toBe(false);
    abort.abort();
    res.destroy();
    await written;
  });

  it('queues nothing more on a session\'s GET stream, however many ticks pass', async () => {
    const streams = hub();
    const session = { id: 'session-1', protocolVersion: '2025-06-18' } as SessionRecord;
    // Sent once the GET stream is open: the server's message that the client does not read.
    const { res, written } = await stalledClient({ kind: 'stream', session }, streams, () => setImmediate(() => streams.send(session.id, BIG)));
    const before = pending(res);

    vi.advanceTimersByTime(KEEP_ALIVE_MS * TICKS);

    expect(pending(res)).toEqual(before);
    expect(res.writableEnded).toBe(false);
    res.destroy();
    await written;
  });
});
