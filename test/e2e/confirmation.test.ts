/**
 * Human confirmation of consequential calls through the standalone gateway: a real SDK server
 * behind counts what reaches it; the policy (the built-in rules, and real OPA) asks to confirm
 * transfers above 100 and destructive tools. The SDK 1.x client answers the gateway's
 * `elicitation/create` (accept, decline, cancel, unticked, silence); the 2.4 client pinned to
 * 2026-07-28 answers `input_required`; raw requests forge, replay and alter the state. The
 * backend runs a call only when the user accepted it, and every outcome is audited.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { Client as ModernClient, StreamableHTTPClientTransport as ModernTransport } from '@modelcontextprotocol/client';
import type { ElicitRequest, ElicitResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { serveMcp, type McpHttpServer } from '../../examples/backends/mcp-http.js';
import { answeringClient, plainClient } from '../support/client.js';
import { MCP_HEADERS, startGateway, type TestGateway } from '../support/gateway.js';
import { startOpa, type OpaHandle } from '../harness/opa.js';
import { waitFor } from '../support/wait.js';

/** What reached the backend, by tool. */
const ran: string[] = [];
const count = (tool: string): number => ran.filter((t) => t === tool).length;

function bank(): McpServer {
  const mcp = new McpServer({ name: 'bank', version: '1.0.0' });
  mcp.registerTool(
    'transfer',
    { description: 'Moves money.', inputSchema: { to: z.string(), amount: z.number(), apiKey: z.string().optional() }, annotations: { destructiveHint: false, readOnlyHint: false } },
    async ({ to, amount }) => {
      ran.push('transfer');
      return { content: [{ type: 'text', text: `sent ${amount} to ${to}` }] };
    },
  );
  mcp.registerTool('close_account', { description: 'Closes the account.', inputSchema: { reason: z.string() }, annotations: { destructiveHint: true } }, async () => {
    ran.push('close_account');
    return { content: [{ type: 'text', text: 'closed' }] };
  });
  mcp.registerTool('balance', { description: 'Reads the balance.', inputSchema: {}, annotations: { readOnlyHint: true } }, async () => {
    ran.push('balance');
    return { content: [{ type: 'text', text: '42' }] };
  });
  return mcp;
}

const RULES = {
  engine: 'rules',
  rules: [
    { tools: ['transfer'], allow: 'anyone', confirm: { message: 'Money leaves the account.', arguments: [{ name: 'amount', above: 100 }] } },
    { tools: ['*'], allow: 'anyone', confirm: { destructive: true } },
  ],
};

const REGO = `package mcp.policy
import rego.v1

default allow := true

confirm := {"message": "Money leaves the account."} if {
	input.tool.name == "transfer"
	input.request.arguments.amount > 100
}

confirm if {
	input.tool.name != "transfer"
	input.tool.annotations.destructiveHint == true
}
`;

const textOf = (r: any): string => r.content?.[0]?.text;
const codeOf = (r: any): string | undefined => r._meta?.['io.github.mcp-gateway/error'];

let backend: McpHttpServer;
let rules: TestGateway;
let opaGw: TestGateway;
let impatient: TestGateway;
let opa: OpaHandle;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  backend = await serveMcp(bank);
  dir = await mkdtemp(join(tmpdir(), 'gw-confirm-'));
  auditFile = join(dir, 'audit.jsonl');
  await writeFile(join(dir, 'policy.rego'), REGO);
  opa = await startOpa();
  const backends = [{ name: 'bank', kind: 'mcp', urls: [backend.url], prefix: '' }];
  rules = await startGateway({ backends, policy: RULES, audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 } });
  opaGw = await startGateway({ backends, policy: { engine: 'opa', url: opa.url, listCacheMs: 0, policyFiles: [join(dir, 'policy.rego')] } });
  impatient = await startGateway({ backends, policy: RULES, confirmation: { timeoutMs: 200 } });
  for (const g of [rules, opaGw, impatient]) await waitFor(() => g.core.catalog.current().tools.has('transfer'), 'the bank tools discovered', 10_000);
}, 60_000);

afterAll(async () => {
  await impatient?.stop();
  await opaGw?.stop();
  await rules?.stop();
  await opa?.stop();
  await backend?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** An SDK 1.x client that declares form elicitation and answers every question with `answer`, recording what it was asked. */
function confirmingClient(url: string, answer: (p: ElicitRequest['params']) => ElicitResult | Promise<ElicitResult>, questions: Array<ElicitRequest['params']> = []) {
  return answeringClient(url, { elicitation: { form: {} } }, [], (p) => {
    questions.push(p);
    return answer(p);
  });
}

const ACCEPT: ElicitResult = { action: 'accept', content: { confirm: true } };

describe.each([
  ['built-in rules', () => rules],
  ['OPA', () => opaGw],
])('a session client that declared elicitation (%s)', (_name, gateway) => {
  it('is asked with a summary of the call, and the call runs on accept', async () => {
    const questions: Array<ElicitRequest['params']> = [];
    const client = await confirmingClient(gateway().url, () => ACCEPT, questions);
    try {
      const before = count('transfer');
      const r: any = await client.callTool({ name: 'transfer', arguments: { to: 'Bob', amount: 500, apiKey: 'sk-live-123' } });
      expect(textOf(r)).toBe('sent 500 to Bob');
      expect(count('transfer')).toBe(before + 1);
      expect(questions).toHaveLength(1);
      const q = questions[0] as { message: string; requestedSchema: any };
      expect(q.message).toContain('Money leaves the account.');
      expect(q.message).toContain('Tool: transfer');
      expect(q.message).toContain('Backend: bank');
      expect(q.message).toContain('"amount": 500');
      // The audit redaction rules hide the key from the user's screen too.
      expect(q.message).not.toContain('sk-live-123');
      expect(q.requestedSchema.properties.confirm.type).toBe('boolean');
    } finally {
      await client.close();
    }
  });

  it('is not asked when the policy allows the call outright', async () => {
    const questions: Array<ElicitRequest['params']> = [];
    const client = await confirmingClient(gateway().url, () => ACCEPT, questions);
    try {
      expect(textOf(await client.callTool({ name: 'transfer', arguments: { to: 'Bob', amount: 5 } }))).toBe('sent 5 to Bob');
      expect(textOf(await client.callTool({ name: 'balance', arguments: {} }))).toBe('42');
      expect(questions).toHaveLength(0);
    } finally {
      await client.close();
    }
  });

  it('gets a distinct tool error for decline, cancel and an unticked box, and the backend is never called', async () => {
    const answers: ElicitResult[] = [{ action: 'decline' }, { action: 'cancel' }, { action: 'accept', content: { confirm: false } }];
    const codes: Array<string | undefined> = [];
    for (const answer of answers) {
      const client = await confirmingClient(gateway().url, () => answer);
      try {
        const before = count('close_account');
        const r: any = await client.callTool({ name: 'close_account', arguments: { reason: 'moving' } });
        expect(r.isError).toBe(true);
        codes.push(codeOf(r));
        expect(count('close_account')).toBe(before);
      } finally {
        await client.close();
      }
    }
    expect(codes).toEqual(['GW_CONFIRMATION_DECLINED', 'GW_CONFIRMATION_CANCELLED', 'GW_CONFIRMATION_DECLINED']);
  });
});

describe('clients that cannot be asked, and users who do not answer', () => {
  it('refuses a client without elicitation with GW_CONFIRMATION_UNAVAILABLE, never calling the backend', async () => {
    const asked: string[] = [];
    const client = await plainClient(rules.url, asked);
    try {
      const before = count('transfer');
      const r: any = await client.callTool({ name: 'transfer', arguments: { to: 'Bob', amount: 500 } });
      expect(r.isError).toBe(true);
      expect(codeOf(r)).toBe('GW_CONFIRMATION_UNAVAILABLE');
      expect(textOf(r)).toMatch(/cannot be asked/);
      expect(asked).toEqual([]);
      expect(count('transfer')).toBe(before);
    } finally {
      await client.close();
    }
  });

  it('refuses a call nobody confirms within confirmation.timeoutMs with GW_CONFIRMATION_TIMEOUT', async () => {
    let release!: () => void;
    const never = new Promise<ElicitResult>((resolve) => (release = () => resolve(ACCEPT)));
    const client = await confirmingClient(impatient.url, () => never);
    try {
      const before = count('transfer');
      const r: any = await client.callTool({ name: 'transfer', arguments: { to: 'Bob', amount: 500 } });
      expect(codeOf(r)).toBe('GW_CONFIRMATION_TIMEOUT');
      expect(count('transfer')).toBe(before);
    } finally {
      release();
      await client.close();
    }
  });

  it('audits each outcome on the mcp.tool_call event', async () => {
    const events = async () =>
      (await readFile(auditFile, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l))
        .filter((e) => e.event === 'mcp.tool_call');
    await waitFor(async () => (await events()).some((e) => e.confirmation === 'unavailable'), 'the audit events written', 5_000);
    const all = await events();
    const of = (outcome: string) => all.filter((e) => e.confirmation === outcome);
    expect(of('accepted').some((e) => e.tool === 'transfer' && e.outcome === 'ok' && e.arguments.apiKey === '[REDACTED]')).toBe(true);
    expect(of('declined').map((e) => e.errorCode)).toContain('GW_CONFIRMATION_DECLINED');
    expect(of('cancelled').map((e) => e.errorCode)).toContain('GW_CONFIRMATION_CANCELLED');
    expect(of('unavailable').map((e) => e.errorCode)).toContain('GW_CONFIRMATION_UNAVAILABLE');
    // Calls the policy allowed outright say so.
    expect(all.some((e) => e.tool === 'balance' && e.confirmation === null)).toBe(true);
  });
});

const V = '2026-07-28';
const META = (caps: Record<string, unknown>) => ({
  'io.modelcontextprotocol/protocolVersion': V,
  'io.modelcontextprotocol/clientCapabilities': caps,
  'io.modelcontextprotocol/clientInfo': { name: 'raw', version: '1' },
});

/** POST one stateless `tools/call` with the headers a conforming client sends. */
async function call(url: string, params: Record<string, unknown>, caps: Record<string, unknown> = { elicitation: { form: {} } }, id = 1): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { ...MCP_HEADERS, 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': String(params.name) },
    body: JSON.stringify({ jsonrpc: '2.0', id, method: 'tools/call', params: { _meta: META(caps), ...params } }),
  });
  const text = await res.text();
  return text.startsWith('{') ? JSON.parse(text) : JSON.parse(text.split('\n').filter((l) => l.startsWith('data: ')).pop()!.slice(6));
}

describe.each([
  ['built-in rules', () => rules],
  ['OPA', () => opaGw],
])('a stateless (2026-07-28) client (%s)', (_name, gateway) => {
  it('the 2.4 SDK client answers input_required, and the call runs on accept', async () => {
    const asked: string[] = [];
    const client = new ModernClient({ name: 'modern', version: '2.4.0' }, { capabilities: { elicitation: { form: {} } }, versionNegotiation: { mode: { pin: V } } } as never);
    client.setRequestHandler('elicitation/create', async (req) => {
      asked.push((req.params as { message: string }).message);
      return { action: 'accept', content: { confirm: true } };
    });
    await client.connect(new ModernTransport(new URL(gateway().url)));
    try {
      const before = count('transfer');
      const r: any = await client.callTool({ name: 'transfer', arguments: { to: 'Eve', amount: 250 } });
      expect(textOf(r)).toBe('sent 250 to Eve');
      expect(count('transfer')).toBe(before + 1);
      expect(asked).toHaveLength(1);
      expect(asked[0]).toContain('Money leaves the account.');
    } finally {
      await client.close();
    }
  });

  it('refuses forged, replayed and altered states, and a decline, before anything reaches the backend', async () => {
    const args = { to: 'Eve', amount: 900 };
    const first = await call(gateway().url, { name: 'transfer', arguments: args });
    expect(first.result.resultType).toBe('input_required');
    const [key] = Object.keys(first.result.inputRequests);
    expect(first.result.inputRequests[key!].method).toBe('elicitation/create');
    const state: string = first.result.requestState;
    const accept = { [key!]: { action: 'accept', content: { confirm: true } } };
    const before = count('transfer');

    const forged = Buffer.from(state, 'base64url');
    forged[forged.length - 1]! ^= 1;
    const f = await call(gateway().url, { name: 'transfer', arguments: args, inputResponses: accept, requestState: forged.toString('base64url') });
    expect(f.error.data.code).toBe('GW_REQUEST_STATE_INVALID');

    const changed = await call(gateway().url, { name: 'transfer', arguments: { to: 'Mallory', amount: 900 }, inputResponses: accept, requestState: state });
    expect(changed.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
    expect(changed.error.message).toMatch(/other arguments/);
    expect(count('transfer')).toBe(before);

    const done = await call(gateway().url, { name: 'transfer', arguments: args, inputResponses: accept, requestState: state }, undefined, 2);
    expect(textOf(done.result)).toBe('sent 900 to Eve');
    expect(count('transfer')).toBe(before + 1);

    const replayed = await call(gateway().url, { name: 'transfer', arguments: args, inputResponses: accept, requestState: state }, undefined, 3);
    expect(replayed.error.data.code).toBe('GW_REQUEST_STATE_INVALID');
    expect(count('transfer')).toBe(before + 1);

    const again = await call(gateway().url, { name: 'transfer', arguments: args });
    const [k2] = Object.keys(again.result.inputRequests);
    const declined = await call(gateway().url, { name: 'transfer', arguments: args, inputResponses: { [k2!]: { action: 'decline' } }, requestState: again.result.requestState });
    expect(codeOf(declined.result)).toBe('GW_CONFIRMATION_DECLINED');
    expect(count('transfer')).toBe(before + 1);
  });

  it('answers a stateless client without elicitation with GW_CONFIRMATION_UNAVAILABLE', async () => {
    const before = count('transfer');
    const r = await call(gateway().url, { name: 'transfer', arguments: { to: 'Eve', amount: 900 } }, {});
    expect(codeOf(r.result)).toBe('GW_CONFIRMATION_UNAVAILABLE');
    expect(count('transfer')).toBe(before);
  });
});
