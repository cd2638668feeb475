import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { connectClient } from '../support/client.js';
import { jsonOf, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { freePort } from '../harness/ports.js';
import { waitFor } from '../support/wait.js';
import { stopAfterEach } from '../support/cleanup.js';

let notes: NotesServer;
const cleanup = stopAfterEach();

beforeAll(async () => {
  notes = await startNotesServer();
});
afterAll(async () => {
  await notes?.close();
});

async function member(clusterName: string, extra: { port?: number; members?: number[] } = {}): Promise<HazelcastHandle> {
  const m = await startHazelcast({ clusterName, ...extra });
  cleanup(() => m.stop());
  return m;
}

async function gateway(clusterName: string, members: string[], ttlSeconds = 60): Promise<TestGateway> {
  const gw = await startGateway({
    sessions: { store: 'hazelcast', ttlSeconds, hazelcast: { clusterName, members, invocationTimeoutMs: 1500 } },
    backends: [{ name: 'notes', kind: 'mcp', urls: [notes.url] }],
  });
  cleanup(() => gw.stop());
  return gw;
}

/** Poll a request until it answers as expected (Hazelcast and its events are asynchronous). */
const until = (cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> => waitFor(cond, 'the cluster to answer as expected', timeoutMs, 100);

const call = (url: string, sid: string, name: string, args: Record<string, unknown> = {}) =>
  rawPost(url, sid, { jsonrpc: '2.0', id: randomUUID(), method: 'tools/call', params: { name, arguments: args } });

describe('sessions in Hazelcast', () => {
  it('lets a client start on one gateway and continue on another, in the same backend session', async () => {
    const cluster = `gw-${randomUUID()}`;
    const m = await member(cluster);
    const [a, b] = [await gateway(cluster, [m.address]), await gateway(cluster, [m.address])];
    const { client, transport } = await connectClient(a.url);
    const first = await client.callTool({ name: 'notes_add_note', arguments: { text: 'from A' } });
    expect(first.isError).toBeFalsy();
    const sid = transport.sessionId!;
    const backendSid = (await a.core.sessions.get(sid))!.backendSessions.notes!.sessionId;
    const initializedBefore = notes.initialized.length;

    const onB = await call(b.url, sid, 'notes_list_notes');
    expect(onB.status).toBe(200);
    expect((await jsonOf(onB)).result.content[0].text).toContain('from A');
    expect(notes.initialized.length).toBe(initializedBefore); // B reused A's backend session
    expect((await b.core.sessions.get(sid))!.backendSessions.notes!.sessionId).toBe(backendSid);
    await client.close();
  });

  it('DELETE on one gateway ends the session on the other, and its backend session', async () => {
    const cluster = `gw-${randomUUID()}`;
    const m = await member(cluster);
    const [a, b] = [await gateway(cluster, [m.address]), await gateway(cluster, [m.address])];
    const { sessionId } = await rawInitialize(a.url);
    await (await call(a.url, sessionId, 'notes_list_notes')).text();
    expect((await rawPost(b.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'ping' })).status).toBe(200); // warm B's near cache
    const backendSid = (await a.core.sessions.get(sessionId))!.backendSessions.notes!.sessionId!;
    const del = await fetch(b.url, { method: 'DELETE', headers: { 'mcp-session-id': sessionId } });
    expect(del.status).toBe(204);
    expect(notes.sessions.has(backendSid)).toBe(false);
    await until(async () => (await rawPost(a.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'ping' })).status === 404, 1_000);
  });

  it('expires idle sessions on every instance, and keeps used ones alive', async () => {
    const cluster = `gw-${randomUUID()}`;
    const m = await member(cluster);
    const [a, b] = [await gateway(cluster, [m.address], 2), await gateway(cluster, [m.address], 2)];
    const idle = (await rawInitialize(a.url)).sessionId;
    const busy = (await rawInitialize(a.url)).sessionId;
    expect((await rawPost(b.url, idle, { jsonrpc: '2.0', id: 0, method: 'ping' })).status).toBe(200);
    for (let i = 0; i < 8; i++) {
      await new Promise((r) => setTimeout(r, 500));
      // Alternate instances: uses on either one keep the session alive cluster-wide.
      expect((await rawPost(i % 2 ? a.url : b.url, busy, { jsonrpc: '2.0', id: i, method: 'ping' })).status).toBe(200);
    }
    await until(async () => (await rawPost(a.url, idle, { jsonrpc: '2.0', id: 9, method: 'ping' })).status === 404, 10_000);
    await until(async () => (await rawPost(b.url, idle, { jsonrpc: '2.0', id: 9, method: 'ping' })).status === 404, 10_000);
  });
});

describe('Hazelcast faults', () => {
  it('answers 503 with a JSON-RPC error while the member is down, and recovers when it is back', { timeout: 90_000 }, async () => {
    const cluster = `gw-${randomUUID()}`;
    const port = await freePort();
    const m = await startHazelcast({ clusterName: cluster, port });
    const gw = await gateway(cluster, [m.address]);
    const { sessionId } = await rawInitialize(gw.url);
    await m.stop();
    await until(async () => (await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'ping' })).status === 503);
    const down = await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/list' });
    expect(down.status).toBe(503);
    expect(await jsonOf(down)).toMatchObject({ jsonrpc: '2.0', id: 2, error: { code: -32603, data: { code: 'GW_SESSION_STORE_UNAVAILABLE' } } });
    const init = await rawPost(gw.url, undefined, { jsonrpc: '2.0', id: 3, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } });
    expect(init.status).toBe(503);
    expect((await fetch(new URL('/healthz', gw.url))).status).toBe(200); // the process is alive

    await member(cluster, { port });
    await until(async () => (await rawPost(gw.url, undefined, { jsonrpc: '2.0', id: 4, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } })).status === 200, 30_000);
    const { client } = await connectClient(gw.url);
    expect((await client.callTool({ name: 'notes_list_notes', arguments: {} })).isError).toBeFalsy();
    await client.close();
  });

  it('loses no session when one member of a two-member cluster dies', async () => {
    const cluster = `gw-${randomUUID()}`;
    const first = await member(cluster);
    const second = await member(cluster, { members: [first.port] });
    await first.waitForMembers(2);
    // Writes made while partitions still migrate may have no backup yet; Hazelcast only promises
    // to survive a member loss once the cluster is safe.
    await first.waitClusterSafe();
    const gw = await gateway(cluster, [first.address, second.address]);
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push((await rawInitialize(gw.url)).sessionId);
    first.kill();
    await second.waitForMembers(1, 30_000);
    // A fresh instance has nothing cached: what it finds is what the surviving member holds.
    const fresh = await gateway(cluster, [second.address]);
    for (const id of ids) {
      await until(async () => (await rawPost(fresh.url, id, { jsonrpc: '2.0', id: 1, method: 'ping' })).status === 200, 20_000);
    }
    // The gateway that was connected to both members goes on changing them on the survivor (a
    // change always goes to the cluster, never to a local copy).
    for (const id of ids) {
      await until(async () => {
        const res = await rawPost(gw.url, id, { jsonrpc: '2.0', id: 2, method: 'logging/setLevel', params: { level: 'error' } });
        return res.status === 200 && !('error' in (await jsonOf(res)));
      }, 20_000);
    }
  }, 120_000);
});
