/**
 * Two gateway processes behind one Envoy, sharing sessions through a real Hazelcast member: the
 * high-availability shape of the Envoy topology. Envoy spreads ext_proc streams and broker
 * requests over both replicas (round robin), so a client's requests are admitted by either one,
 * and a ticket issued by one replica's ext_proc often reaches the other's broker, which admits the
 * request again.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isMap, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { startNotesServer, type NotesServer } from '../../examples/backends/notes-mcp.js';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import type { EnvoyHandle } from '../harness/envoy.js';
import { startHazelcast, type HazelcastHandle } from '../harness/hazelcast.js';
import { envoyStat, startTopologyEnvoy } from '../harness/topology-envoy.js';
import { connectClient } from '../support/client.js';
import { ORDER_TOOLS, rawInitialize, rawPost, startExtProc } from '../support/gateway.js';
import { messagesOf, sseGet, ssePost } from '../support/sse.js';
import { waitFor } from '../support/wait.js';

let member: HazelcastHandle;
let orders: OrdersApi;
let notes: NotesServer;
let replicas: RunningExtProc[];
let envoy: EnvoyHandle;
let endpoint: string;
/** Replicas a test stopped (afterAll stops the others). */
const stopped = new Set<RunningExtProc>();

/** envoy.yaml with replica B added to the `extproc` and `broker` clusters (replica A's ports go where the tags are). */
function withSecondReplica(template: string, b: RunningExtProc): string {
  const doc = parseDocument(template);
  const clusters = doc.getIn(['static_resources', 'clusters']);
  if (!isSeq(clusters)) throw new Error('envoy.yaml: no static clusters');
  for (const [name, port] of [['extproc', b.extprocPort], ['broker', Number(new URL(b.brokerUrl).port)]] as const) {
    const cluster = clusters.items.find((c): c is YAMLMap => isMap(c) && c.get('name') === name);
    const lbEndpoints = cluster?.getIn(['load_assignment', 'endpoints', 0, 'lb_endpoints']);
    if (!isSeq(lbEndpoints)) throw new Error(`envoy.yaml: cluster ${name} has no endpoints`);
    lbEndpoints.add(doc.createNode({ endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } }));
  }
  return doc.toString();
}

/** Requests Envoy sent to each replica of a static cluster, by port, from the admin `/clusters` page. */
async function perReplica(cluster: 'extproc' | 'broker'): Promise<Map<number, number>> {
  const text = await (await fetch(`${envoy.adminUrl}/clusters`)).text();
  const out = new Map<number, number>();
  for (const m of text.matchAll(new RegExp(`^${cluster}::127\\.0\\.0\\.1:(\\d+)::rq_total::(\\d+)$`, 'gm'))) out.set(Number(m[1]), Number(m[2]));
  return out;
}

beforeAll(async () => {
  const cluster = `gw-${randomUUID()}`;
  member = await startHazelcast({ clusterName: cluster });
  orders = await startOrdersApi();
  notes = await startNotesServer();
  const config = {
    sessions: { store: 'hazelcast', hazelcast: { clusterName: cluster, members: [member.address] } },
    // No tool refresh while the test counts the backend's sessions.
    catalog: { refreshIntervalMs: 3_600_000 },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'notes', kind: 'mcp', urls: [notes.url] },
    ],
  };
  replicas = [await startExtProc(config), await startExtProc(config)];
  for (const r of replicas) await waitFor(() => r.core.catalog.current().tools.has('notes_add_note'), 'native tools discovered', 15_000);
  ({ envoy, endpoint } = await startTopologyEnvoy(replicas[0]!, (template) => withSecondReplica(template, replicas[1]!)));
  await waitFor(async () => (await envoyStat(envoy.adminUrl, 'cluster.mcp_backend_notes.membership_healthy')) === 1, 'Envoy knows the notes cluster', 15_000);
}, 90_000);

afterAll(async () => {
  await envoy?.stop();
  for (const r of replicas ?? []) if (!stopped.has(r)) await r.stop();
  await notes?.close();
  await orders?.close();
  await member?.stop();
});

describe('two gateway replicas behind one Envoy', () => {
  it("serves one client session whichever replica admits each request, in one backend session", { timeout: 60_000 }, async () => {
    const backendSessionsBefore = notes.initialized.length;
    const { client } = await connectClient(endpoint);
    const { tools } = await client.listTools();
    expect(tools.map((t) => t.name)).toEqual(expect.arrayContaining(['orders_get_order', 'notes_add_note']));
    for (let i = 0; i < 10; i++) {
      const note = await client.callTool({ name: 'notes_add_note', arguments: { text: `replicated ${i}` } });
      expect(note.isError).toBeFalsy();
      const order = await client.callTool({ name: 'orders_get_order', arguments: { id: '1001' } });
      expect(order.isError).toBeFalsy();
    }
    const listed = await client.callTool({ name: 'notes_list_notes', arguments: {} });
    expect(JSON.stringify(listed.content)).toContain('replicated 9');
    await client.close();
    // Both replicas did admission and both brokers answered ...
    const ports = replicas.map((r) => r.extprocPort);
    const extproc = await perReplica('extproc');
    for (const p of ports) expect(extproc.get(p) ?? 0, `ext_proc streams on replica :${p}`).toBeGreaterThan(0);
    const broker = await perReplica('broker');
    for (const r of replicas) expect(broker.get(Number(new URL(r.brokerUrl).port)) ?? 0, `broker requests on ${r.brokerUrl}`).toBeGreaterThan(0);
    // ... and the native calls all went through the one backend session the client session holds.
    expect(notes.initialized.length - backendSessionsBefore).toBe(1);
  });

  it('answers a routed call whose backend lost the session, and opens a new one, whichever replica Envoy shows the failing answer to', { timeout: 60_000 }, async () => {
    const { client } = await connectClient(endpoint);
    expect((await client.callTool({ name: 'notes_add_note', arguments: { text: 'first' } })).isError).toBeFalsy();
    const extprocBefore = await perReplica('extproc');
    // Round robin spreads the calls' own streams and their failing answers' streams over both replicas:
    // over these rounds a failing answer reaches the replica that did not route its call.
    for (let round = 0; round < 4; round++) {
      notes.sessions.clear();
      const lost = await client.callTool({ name: 'notes_add_note', arguments: { text: `lost ${round}` } });
      expect(lost.isError, `round ${round}`).toBe(true);
      expect(lost._meta, `round ${round}`).toEqual({ 'io.github.mcp-gateway/error': 'GW_UPSTREAM_SESSION_LOST' });
      expect((lost.content as Array<{ text: string }>)[0]!.text).toContain('backend "notes" no longer knows the session');
      // The replica that routed the call heard of it and forgot the lost backend session (or its own failing answer told it).
      await waitFor(async () => {
        const again = await client.callTool({ name: 'notes_add_note', arguments: { text: `again ${round}` } });
        return !again.isError;
      }, `round ${round}: a new backend session`, 10_000);
    }
    const extprocAfter = await perReplica('extproc');
    for (const r of replicas) expect((extprocAfter.get(r.extprocPort) ?? 0) - (extprocBefore.get(r.extprocPort) ?? 0), `ext_proc streams on replica :${r.extprocPort}`).toBeGreaterThan(0);
    await client.close();
  });

  it('replays a call stream cut on one replica from whichever broker replica Envoy sends the resume to', { timeout: 60_000 }, async () => {
    const { sessionId } = await rawInitialize(endpoint);
    // A streamed REST call: the broker runs it, so the gateway records its stream.
    const call = { jsonrpc: '2.0', id: 3, method: 'tools/call', params: { name: 'orders_track_order', arguments: { id: '1001', delayMs: 150 } } };
    const post = await ssePost(endpoint, sessionId, call);
    const priming = (await post.next())!;
    const first = (await post.next())!;
    expect(priming.data).toBe('');
    post.close();
    const expected = ['packed', 'shipped', 'delivered'].map((event) => ({ method: 'notifications/message', params: { data: { order: '1001', event } } }));
    const brokersBefore = await perReplica('broker');
    // Round robin sends these resumes to both broker replicas; each replays the same rest.
    for (let i = 0; i < 4; i++) {
      const get = await sseGet(endpoint, sessionId, first.id);
      expect(get.status).toBe(200);
      const rest = messagesOf(await get.until(() => false));
      expect(rest.slice(0, 3)).toMatchObject(expected);
      expect(rest[3]).toMatchObject({ id: 3, result: { content: [{ type: 'text' }] } });
      expect(rest).toHaveLength(4);
    }
    const brokersAfter = await perReplica('broker');
    for (const r of replicas) {
      const port = Number(new URL(r.brokerUrl).port);
      expect((brokersAfter.get(port) ?? 0) - (brokersBefore.get(port) ?? 0), `resumes on ${r.brokerUrl}`).toBeGreaterThan(0);
    }
  });

  // Last: it stops replica B for good.
  it('keeps admitting and answering when a replica goes away: no request fails, and Envoy sets the dead one aside after its failed connections', { timeout: 60_000 }, async () => {
    const { sessionId } = await rawInitialize(endpoint);
    const era = { 'mcp-protocol-version': '2025-11-25' };
    expect((await rawPost(endpoint, sessionId, { jsonrpc: '2.0', method: 'notifications/initialized' }, era)).status).toBe(202);
    const dead = replicas[1]!;
    await dead.stop(0);
    stopped.add(dead);
    // A REST call (ext_proc, then the broker) and a native call (ext_proc, then the backend), in turn.
    const statuses: number[] = [];
    for (let i = 0; i < 24; i++) {
      const name = i % 2 === 0 ? 'orders_get_order' : 'notes_add_note';
      const args = i % 2 === 0 ? { id: '1001' } : { text: `after ${i}` };
      const res = await rawPost(endpoint, sessionId, { jsonrpc: '2.0', id: 200 + i, method: 'tools/call', params: { name, arguments: args } }, era);
      const text = await res.text();
      statuses.push(res.status);
      if (res.status === 200) expect(text, `call ${i}`).toContain(`"id":${200 + i}`);
    }
    // A stream or request that could not reach the dead replica is opened on the other one.
    expect(statuses.join(' ')).toBe(Array(24).fill(200).join(' '));
    // The dead replica's ext_proc and broker were each set aside after failed connections.
    for (const cluster of ['extproc', 'broker']) {
      expect(await envoyStat(envoy.adminUrl, `cluster.${cluster}.outlier_detection.ejections_enforced_total`), cluster).toBeGreaterThan(0);
    }
  });
});
