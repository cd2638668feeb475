/**
 * Human confirmation through the real Envoy topology: envoy/envoy.yaml in front of the gateway
 * process (ext_proc, broker, xDS) and a real SDK backend. The policy answers confirm for large
 * transfers; ext_proc sends such a call to the broker instead of straight to the backend cluster,
 * the broker asks the official SDK client through elicitation on the call's own stream (through
 * Envoy), and the backend runs the call once on accept, never on decline. A client that cannot be
 * asked has its other calls routed straight to the cluster, and one that needs confirming refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { ElicitRequest, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import type { RunningExtProc } from '../../src/extproc/run.js';
import { ERROR_META_KEY } from '../../src/upstream/results.js';
import { clusterName } from '../../src/xds/clusters.js';
import { envoyStat, startTopologyEnvoy, type TopologyEnvoy } from '../harness/topology-envoy.js';
import { answeringClient, plainClient } from '../support/client.js';
import { startExtProc } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

/** What reached the backend, by tool. */
const ran: string[] = [];
const count = (tool: string): number => ran.filter((t) => t === tool).length;

function bank(): McpServer {
  const mcp = new McpServer({ name: 'bank', version: '1.0.0' });
  mcp.registerTool('transfer', { description: 'Moves money.', inputSchema: { to: z.string(), amount: z.number() }, annotations: { destructiveHint: false } }, async ({ to, amount }) => {
    ran.push('transfer');
    return { content: [{ type: 'text', text: `sent ${amount} to ${to}` }] };
  });
  return mcp;
}

let backend: McpHttpServer;
let gw: RunningExtProc;
let topology: TopologyEnvoy;

beforeAll(async () => {
  backend = await serveMcp(bank);
  gw = await startExtProc({
    policy: { engine: 'rules', rules: [{ tools: ['bank_transfer'], allow: 'anyone', confirm: { message: 'Money leaves the account.', arguments: [{ name: 'amount', above: 100 }] } }] },
    backends: [{ name: 'bank', kind: 'mcp', urls: [backend.url] }],
  });
  topology = await startTopologyEnvoy(gw);
  await waitFor(() => gw.core.catalog.current().tools.has('bank_transfer'), 'the bank tools discovered', 15_000);
  await waitFor(async () => (await envoyStat(topology.envoy.adminUrl, `cluster.${clusterName('bank').replace(/\./g, '_')}.membership_healthy`)) === 1, 'Envoy knows the bank cluster', 15_000);
}, 60_000);

afterAll(async () => {
  await topology?.envoy.stop();
  await gw?.stop();
  await backend?.close();
});

/** The official SDK client, through Envoy, declaring form elicitation and answering each question with `answer`. */
function confirmingClient(answer: ElicitResult, questions: Array<ElicitRequest['params']>): Promise<Client> {
  return answeringClient(topology.endpoint, { elicitation: { form: {} } }, [], (p) => {
    questions.push(p);
    return answer;
  });
}

const textOf = (r: any): string => r.content?.[0]?.text;

describe('confirmation through the Envoy topology', () => {
  it('asks the user through Envoy, and the call reaches the backend once on accept', async () => {
    const questions: Array<ElicitRequest['params']> = [];
    const client = await confirmingClient({ action: 'accept', content: { confirm: true } }, questions);
    try {
      // A small transfer needs no confirmation: nobody is asked.
      expect(textOf(await client.callTool({ name: 'bank_transfer', arguments: { to: 'Ann', amount: 5 } }))).toBe('sent 5 to Ann');
      expect(questions).toHaveLength(0);

      const before = count('transfer');
      const r = await client.callTool({ name: 'bank_transfer', arguments: { to: 'Bob', amount: 500 } });
      expect(textOf(r)).toBe('sent 500 to Bob');
      expect(count('transfer')).toBe(before + 1);
      expect(questions).toHaveLength(1);
      const q = questions[0] as { message: string };
      expect(q.message).toContain('Money leaves the account.');
      expect(q.message).toContain('Tool: bank_transfer');
      expect(q.message).toContain('"amount": 500');
    } finally {
      await client.close();
    }
  });

  it('never calls the backend when the user declines', async () => {
    const questions: Array<ElicitRequest['params']> = [];
    const client = await confirmingClient({ action: 'decline' }, questions);
    try {
      const before = count('transfer');
      const r: any = await client.callTool({ name: 'bank_transfer', arguments: { to: 'Eve', amount: 900 } });
      expect(r.isError).toBe(true);
      expect(r._meta?.[ERROR_META_KEY]).toBe('GW_CONFIRMATION_DECLINED');
      expect(questions).toHaveLength(1);
      expect(count('transfer')).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('refuses a call that needs confirming from a client that cannot be asked, which reaches neither the cluster nor the backend', async () => {
    const asked: string[] = [];
    const client = await plainClient(topology.endpoint, asked);
    const routed = async (): Promise<number> => (await envoyStat(topology.envoy.adminUrl, `cluster.${clusterName('bank').replace(/\./g, '_')}.upstream_rq_total`)) || 0;
    try {
      // No confirmation needed, and the client answers no server requests: Envoy sends the call to the cluster itself.
      const before = await routed();
      expect(textOf(await client.callTool({ name: 'bank_transfer', arguments: { to: 'Ann', amount: 5 } }))).toBe('sent 5 to Ann');
      expect(await routed()).toBeGreaterThan(before);

      const ranBefore = count('transfer');
      const routedBefore = await routed();
      const r: any = await client.callTool({ name: 'bank_transfer', arguments: { to: 'Eve', amount: 900 } });
      expect(r._meta?.[ERROR_META_KEY]).toBe('GW_CONFIRMATION_UNAVAILABLE');
      expect(count('transfer')).toBe(ranBefore);
      expect(await routed()).toBe(routedBefore);
      expect(asked).toEqual([]);
    } finally {
      await client.close();
    }
  });
});
