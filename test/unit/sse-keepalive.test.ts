/**
 * A `subscriptions/listen` stream lives as long as its client, and a client may stop reading it
 * (stalled, or far behind). Its keep-alive ticks must not pile anything onto that one response
 * while the socket is full: each tick that waited for 'drain' left a 'close' and a 'drain'
 * listener behind, without end. Real node:http server and a raw TCP client that never reads;
 * only setInterval is faked, so the ticks run without waiting for them.
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
const cleanups: Array<() => unknown> = [];

afterEach(async () => {
  vi.useRealTimers();
  for (const c of cleanups.splice(0).reverse()) await c();
});

describe('the keep-alive of a listen stream whose client stopped reading', () => {
  it('adds no listener to the response, however many ticks pass', async () => {
    const abort = new AbortController();
    // More than loopback socket buffers take: the response stays behind while the client does not read.
    const big: JsonRpcMessage = { jsonrpc: '2.0', method: 'notifications/message', params: { level: 'info', data: 'x'.repeat(64 * 1024 * 1024) } };
    async function* messages(): AsyncGenerator<JsonRpcMessage> {
      yield big;
      // The stream stays open until the test (or the client's going away) aborts it.
      if (!abort.signal.aborted) await new Promise((resolve) => abort.signal.addEventListener('abort', resolve, { once: true }));
    }
    const session = { id: 'held-1', protocolVersion: '2026-07-28' } as SessionRecord;
    const reply: Reply = { kind: 'messages', session, messages: messages(), abort, finish: () => undefined, keepAlive: true };
    const streams = new StreamHub(new EventLog(new MemoryEventStore(60_000), { maxEventsPerStream: 100, maxBytesPerStream: 1_000_000, maxAgeMs: 60_000, retryMs: 500 }));
    let response: ServerResponse | undefined;
    let written: Promise<void> | undefined;
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const server = createServer((req, res) => {
      req.resume();
      response = res;
      written = writeReply(res, reply, { accept: 'text/event-stream', requestId: 'l1', streams, keepAliveMs: KEEP_ALIVE_MS, onError: () => undefined });
    });
    await listen(server);
    cleanups.push(() => closeServer(server));
    const client = connect((server.address() as AddressInfo).port, '127.0.0.1');
    cleanups.push(() => client.destroy());
    client.pause();
    client.write('POST /mcp HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-length: 0\r\n\r\n');
    await waitFor(() => response?.headersSent === true && response.writableNeedDrain, 'the stream to fall behind its client');
    const res = response!;
    const before = { close: res.listenerCount('close'), drain: res.listenerCount('drain') };

    vi.advanceTimersByTime(KEEP_ALIVE_MS * 50);

    expect({ close: res.listenerCount('close'), drain: res.listenerCount('drain') }).toEqual(before);
    expect(res.writableEnded).toBe(false);
    abort.abort();
    client.destroy();
    await written;
  });
});
