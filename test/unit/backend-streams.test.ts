/**
 * BackendStreams with a shared lease store (the FollowLeases interface, counted here) and real
 * node:http backends on port 0: a non-follower does not ask the cluster on every call, a taken-over
 * following keeps its lease however long the backend refuses a second stream, and a session ended
 * through another instance stops the stream here.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { Agent } from 'undici';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { BackendStreams } from '../../src/upstream/backend-streams.js';
import type { Claim, FollowLeases, Following } from '../../src/session/follow-leases.js';
import { waitFor } from '../support/wait.js';

const logger = pino({ level: 'silent' });
const dispatcher = new Agent();
const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((r) => s.close(r));
  }
});

/** A lease store whose answers the test sets, counting what the streams ask of it. */
class CountedLeases implements FollowLeases {
  claims = 0;
  readonly drops: Following[] = [];
  answer: Claim = { mine: true };
  readonly live = new Set<string>();
  private ended: Array<(session: string) => void> = [];
  async claim(): Promise<Claim> {
    this.claims++;
    return this.answer;
  }
  isLive(owner: string): boolean {
    return this.live.has(owner);
  }
  async drop(f: Following): Promise<void> {
    this.drops.push(f);
  }
  onTakeover(): void {}
  onLost(): void {}
  onSessionEnded(listener: (session: string) => void): void {
    this.ended.push(listener);
  }
  endSession(session: string): void {
    for (const l of this.ended) l(session);
  }
  retire(): void {}
  async release(): Promise<void> {}
}

/** A backend whose GET stream answers as `onGet` says; resolves with its URL. */
async function backend(onGet: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer((req, res) => (req.method === 'GET' ? onGet(req, res) : res.writeHead(405).end()));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
}

/** Until every promise queued by a follow() settled (its claim, its end). */
const settled = (): Promise<void> => new Promise((r) => setTimeout(r, 0));

describe('following backend sessions with a shared lease store', () => {
  it('asks the cluster once, not on every call, while another live instance follows', async () => {
    const leases = new CountedLeases();
    leases.answer = { mine: false, owner: 'instance-b' };
    leases.live.add('instance-b');
    const streams = new BackendStreams(dispatcher, () => undefined, logger, leases);
    const ep = { url: 'http://127.0.0.1:9/mcp', sessionId: 'backend-1', headers: {} };
    for (let i = 0; i < 100; i++) {
      streams.follow('client-1', 'lib', 'lib', ep);
      await settled();
    }
    expect(leases.claims).toBe(1);
    // The session ended here (DELETE, expiry): a later session of the same id asks again.
    streams.close('client-1');
    streams.follow('client-1', 'lib', 'lib', ep);
    await settled();
    expect(leases.claims).toBe(2);
    // The follower's lease ended: this instance may be the one to follow now.
    leases.live.delete('instance-b');
    streams.follow('client-1', 'lib', 'lib', ep);
    await settled();
    expect(leases.claims).toBe(3);
  });

  it('asks again after a while, in case the other instance gave the following up (its backend ended the stream)', async () => {
    const leases = new CountedLeases();
    leases.answer = { mine: false, owner: 'instance-b' };
    leases.live.add('instance-b');
    const streams = new BackendStreams(dispatcher, () => undefined, logger, leases);
    const ep = { url: 'http://127.0.0.1:9/mcp', sessionId: 'backend-1', headers: {} };
    const start = Date.now();
    vi.spyOn(Date, 'now').mockImplementation(() => start);
    try {
      streams.follow('client-1', 'lib', 'lib', ep);
      await settled();
      streams.follow('client-1', 'lib', 'lib', ep);
      await settled();
      expect(leases.claims).toBe(1);
      // Half a minute on, the still-live owner's word is taken again from the cluster, once.
      vi.spyOn(Date, 'now').mockImplementation(() => start + 30_000);
      streams.follow('client-1', 'lib', 'lib', ep);
      await settled();
      streams.follow('client-1', 'lib', 'lib', ep);
      await settled();
      expect(leases.claims).toBe(2);
    } finally {
      vi.restoreAllMocks();
    }
  });

  it('keeps the lease of a taken-over following while the backend refuses a second stream, and follows once it accepts', async () => {
    let refusals = 0;
    const url = await backend((_req, res) => {
      // Far more refusals than any fixed number of retries: the old follower's stream lingers (node loss, a hang).
      if (refusals < 25) {
        refusals++;
        return res.writeHead(409).end();
      }
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(`data: ${JSON.stringify({ jsonrpc: '2.0', method: 'notifications/tools/list_changed' })}\n\n`);
    });
    const leases = new CountedLeases();
    const heard: string[] = [];
    const streams = new BackendStreams(dispatcher, (_sid, m) => heard.push(m.method), logger, leases, { firstMs: 1, maxMs: 5 });
    let reads = 0;
    streams.adopt({ session: 'client-1', backend: 'lib', backendSession: 'backend-1', prefix: 'lib' }, async () => {
      reads++;
      return { url, sessionId: 'backend-1', headers: {} };
    });
    await waitFor(() => heard.length > 0, 'the backend notification on the stream taken over');
    expect(heard).toEqual(['notifications/tools/list_changed']);
    expect(leases.drops).toEqual([]);
    // The session record was read again before each attempt (a following no longer wanted is given up).
    expect(reads).toBe(26);
    streams.closeAll();
  });

  it('gives a taken-over following up once its session is gone, even while the backend refuses', async () => {
    const url = await backend((_req, res) => res.writeHead(409).end());
    const leases = new CountedLeases();
    const streams = new BackendStreams(dispatcher, () => undefined, logger, leases, { firstMs: 1, maxMs: 5 });
    let reads = 0;
    const f = { session: 'client-1', backend: 'lib', backendSession: 'backend-1', prefix: 'lib' };
    streams.adopt(f, async () => (++reads < 5 ? { url, sessionId: 'backend-1', headers: {} } : undefined));
    await waitFor(() => leases.drops.length > 0, 'the following given up');
    expect(leases.drops).toEqual([f]);
  });

  it('stops following when the session is deleted through another instance', async () => {
    let [opened, closed] = [false, false];
    const url = await backend((req, res) => {
      opened = true;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(': open\n\n');
      req.socket.on('close', () => (closed = true));
    });
    const leases = new CountedLeases();
    const streams = new BackendStreams(dispatcher, () => undefined, logger, leases);
    streams.follow('client-1', 'lib', 'lib', { url, sessionId: 'backend-1', headers: {} });
    await waitFor(() => opened, 'the stream open');
    leases.endSession('client-1');
    await waitFor(() => closed, 'the backend stream closed');
    await waitFor(() => leases.drops.length === 1, 'the following given up for good');
  });
});
