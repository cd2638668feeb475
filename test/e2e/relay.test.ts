/**
 * The server→client half of MCP through the standalone gateway: a real SDK server behind asks its
 * client things during tool calls (sampling, form and URL elicitation, roots) and logs; the
 * official SDK client in front answers. Conditional tools show only to clients that declared the
 * feature, a client that did not is never asked, policy can refuse a relayed request, and every
 * relay is audited.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { CreateMessageRequestSchema, ElicitationCompleteNotificationSchema, LoggingMessageNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { answeringClient, plainClient } from '../support/client.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { waitFor } from '../support/wait.js';

const FULL = { sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } };

/** What the capable client was asked, by method. */
const asked: string[] = [];

function capableClient(url: string, capabilities: Record<string, unknown> = FULL): Promise<Client> {
  return answeringClient(url, capabilities, asked, (params) => {
    asked.push(`elicitation/create:${params.mode ?? 'form'}`);
    return params.mode === 'url' ? { action: 'accept' } : { action: 'accept', content: { name: 'Ada' } };
  });
}


const textOf = (r: any): string => r.content?.[0]?.text;

let asker: AskingServer;
let gw: TestGateway;
let guarded: TestGateway;
let dir: string;
let auditFile: string;

beforeAll(async () => {
  asker = await startAskingServer();
  dir = await mkdtemp(join(tmpdir(), 'gw-relay-'));
  auditFile = join(dir, 'audit.jsonl');
  const backends = [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }];
  gw = await startGateway({ backends });
  guarded = await startGateway({
    backends,
    policy: { engine: 'rules', rules: [{ relays: ['sampling/*'], allow: 'nobody' }, { tools: ['*'], allow: 'anyone' }] },
    audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 },
  });
  for (const g of [gw, guarded]) await waitFor(() => g.core.catalog.current().tools.has('summarize'), 'the conditional tools discovered', 10_000);
});

afterAll(async () => {
  await guarded?.stop();
  await gw?.stop();
  await asker?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('client capabilities', () => {
  it('lists conditional tools only to clients that declared what they need', async () => {
    const capable = await capableClient(gw.url);
    const formOnly = await capableClient(gw.url, { elicitation: {} });
    const plain = await plainClient(gw.url, []);
    try {
      const names = async (c: Client) => (await c.listTools()).tools.map((t) => t.name).sort();
      expect(await names(capable)).toEqual(['ask_later', 'ask_name', 'chatter', 'echo', 'force_sample', 'impatient', 'list_roots', 'log_later', 'open_link', 'summarize']);
      expect(await names(formOnly)).toEqual(['ask_name', 'chatter', 'echo', 'force_sample', 'log_later']);
      expect(await names(plain)).toEqual(['chatter', 'echo', 'force_sample', 'log_later']);
      const refused = await plain.callTool({ name: 'summarize', arguments: { topic: 'x' } }).catch((e: Error) => e);
      expect(String(refused)).toMatch(/offered only to clients that declare sampling/);
    } finally {
      await Promise.all([capable.close(), formOnly.close(), plain.close()]);
    }
  });

  it('opens each backend session with the relayed capabilities of its client', async () => {
    const before = asker.declared.length;
    const capable = await capableClient(gw.url, { ...FULL, experimental: { x: {} } });
    try {
      await capable.callTool({ name: 'echo', arguments: { text: 'hi' } });
      expect(asker.declared.slice(before)).toEqual([FULL]);
    } finally {
      await capable.close();
    }
  });
});

describe('backend requests relayed to the client', () => {
  it('sampling, form and URL elicitation and roots make the round trip within the call', async () => {
    const client = await capableClient(gw.url);
    try {
      asked.length = 0;
      expect(textOf(await client.callTool({ name: 'summarize', arguments: { topic: 'MCP' } }))).toBe('asker got: short: Summarize MCP (test-model)');
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(textOf(await client.callTool({ name: 'open_link', arguments: {} }))).toBe('url accept');
      expect(textOf(await client.callTool({ name: 'list_roots', arguments: {} }))).toBe('file:///work/project');
      expect(asked).toEqual(['sampling/createMessage', 'elicitation/create:form', 'elicitation/create:url', 'roots/list']);
    } finally {
      await client.close();
    }
  });

  it('many concurrent relays of several clients keep their answers apart', async () => {
    const clients = await Promise.all([capableClient(gw.url), capableClient(gw.url)]);
    try {
      const results = await Promise.all(
        clients.flatMap((c, i) => [0, 1, 2].map((j) => c.callTool({ name: 'summarize', arguments: { topic: `t${i}${j}` } }).then(textOf))),
      );
      expect(results).toEqual(['00', '01', '02', '10', '11', '12'].map((t) => `asker got: short: Summarize t${t} (test-model)`));
    } finally {
      await Promise.all(clients.map((c) => c.close()));
    }
  });

  it('never asks a client that did not declare the capability: the backend gets the refusal', async () => {
    const got: string[] = [];
    const plain = await plainClient(gw.url, got);
    try {
      const r = await plain.callTool({ name: 'force_sample', arguments: {} });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/did not declare "sampling"/);
      expect(got).toEqual([]);
    } finally {
      await plain.close();
    }
  });

  it('passes log messages of a call at or above the level the client set', async () => {
    const client = await capableClient(gw.url);
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params.level));
    try {
      await client.callTool({ name: 'chatter', arguments: {} });
      expect(logs).toEqual(['debug', 'info', 'warning']);
      logs.length = 0;
      await client.setLoggingLevel('info');
      await client.callTool({ name: 'chatter', arguments: {} });
      expect(logs).toEqual(['info', 'warning']);
    } finally {
      await client.close();
    }
  });
});

describe('outside a call', () => {
  it("a backend's request on its own stream reaches the client's GET stream, and the answer the backend", async () => {
    const client = await capableClient(gw.url);
    try {
      asked.length = 0;
      expect(textOf(await client.callTool({ name: 'ask_later', arguments: {} }))).toBe('asked later');
      await waitFor(() => asker.late.includes('short: Later'), 'the late request answered', 5_000);
      expect(asked).toEqual(['sampling/createMessage']);
    } finally {
      await client.close();
    }
  });

  it("a backend's log messages on its own stream reach the client at its level", async () => {
    const client = await capableClient(gw.url);
    const logs: string[] = [];
    client.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(String(n.params.data)));
    try {
      await client.setLoggingLevel('warning');
      await client.callTool({ name: 'log_later', arguments: {} });
      await waitFor(() => logs.length > 0, 'the late log message', 5_000);
      await new Promise((r) => setTimeout(r, 200));
      expect(logs).toEqual(['late error']);
    } finally {
      await client.close();
    }
  });
});

describe('URL-mode elicitation', () => {
  it('the completion a backend sends after the call reaches the client', async () => {
    const client = await capableClient(gw.url);
    const completed: string[] = [];
    client.setNotificationHandler(ElicitationCompleteNotificationSchema, (n) => void completed.push(n.params.elicitationId));
    try {
      expect(textOf(await client.callTool({ name: 'open_link', arguments: {} }))).toBe('url accept');
      await waitFor(() => completed.length === 1, 'notifications/elicitation/complete', 5_000);
      expect(completed).toEqual(['e-1']);
    } finally {
      await client.close();
    }
  });
});

describe('timeouts and cancellation', () => {
  /** A client whose sampling handler never answers; it records the relayed requests it is told are off. */
  async function stuckClient(url: string, cancelled: string[]): Promise<Client> {
    const client = new Client({ name: 'stuck', version: '1.0.0' }, { capabilities: { sampling: {} } });
    client.setRequestHandler(
      CreateMessageRequestSchema,
      (_req, extra) =>
        new Promise((_resolve, reject) =>
          extra.signal.addEventListener('abort', () => {
            cancelled.push(String(extra.requestId));
            reject(new Error('cancelled'));
          }),
        ),
    );
    await client.connect(new StreamableHTTPClientTransport(new URL(url)));
    return client;
  }

  it("a backend that cancels its own request: the client hears it under the id it saw", async () => {
    const cancelled: string[] = [];
    const client = await stuckClient(gw.url, cancelled);
    try {
      expect(textOf(await client.callTool({ name: 'impatient', arguments: {} }))).toBe('gave up');
      await waitFor(() => cancelled.length === 1, 'the client told the request is off', 5_000);
      expect(cancelled[0]).toMatch(/^gw-relay-/);
    } finally {
      await client.close();
    }
  });

  it('a client that does not answer within the call: the call times out, the client is told, the backend gets GW_RELAY_TIMEOUT', async () => {
    const slow = await startGateway({ backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '', timeoutMs: 800 }] });
    const cancelled: string[] = [];
    await waitFor(() => slow.core.catalog.current().tools.has('summarize'), 'discovery', 10_000);
    const client = await stuckClient(slow.url, cancelled);
    try {
      const failuresBefore = asker.failures.length;
      const r = await client.callTool({ name: 'summarize', arguments: { topic: 'slowly' } });
      expect(r.isError).toBe(true);
      expect(textOf(r)).toMatch(/did not answer in time/);
      await waitFor(() => cancelled.length === 1, 'the client told its relayed request is off', 5_000);
      expect(cancelled[0]).toMatch(/^gw-relay-/);
      await waitFor(() => asker.failures.slice(failuresBefore).some((f) => f.includes('The client did not answer in time')), 'the backend answered with GW_RELAY_TIMEOUT', 5_000);
    } finally {
      await client.close();
      await slow.stop();
    }
  });
});

describe('policy and audit', () => {
  it('a policy refuses a relayed request: the backend gets the denial, the client is not asked, both are audited', async () => {
    const client = await capableClient(guarded.url);
    try {
      asked.length = 0;
      const denied = await client.callTool({ name: 'summarize', arguments: { topic: 'x' } });
      expect(textOf(denied)).toMatch(/Denied by policy/);
      expect(textOf(await client.callTool({ name: 'ask_name', arguments: {} }))).toBe('hello Ada');
      expect(asked).toEqual(['elicitation/create:form']);
      await waitFor(async () => (await readFile(auditFile, 'utf8').catch(() => '')).includes('"outcome":"answered"'), 'the relays audited', 5_000);
      const events = (await readFile(auditFile, 'utf8')).trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.event === 'mcp.relay');
      expect(events.map((e) => [e.method, e.decision, e.outcome, e.backend])).toEqual([
        ['sampling/createMessage', 'deny', 'denied', 'asker'],
        ['elicitation/create', 'allow', 'answered', 'asker'],
      ]);
      expect(events[0].tool).toBe('summarize');
      expect(events[1].tool).toBe('ask_name');
    } finally {
      await client.close();
    }
  });
});
