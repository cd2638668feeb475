/**
 * The official MCP Python SDK client (PyPI `mcp` 2.3.0, which speaks 2026-07-28) against the
 * standalone gateway, in front of an SDK 1.x backend whose tool asks the user for a name by
 * elicitation: pinned to 2026-07-28, in its default `auto` mode, and in `legacy` mode. Each run
 * lists the tools and makes the elicitation round trip across the bridge (test/python/mcp_client.py).
 * Every POST goes through a recording proxy, so the test sees what the client sent and what it got:
 * `auto` must find the stateless era with one successful `server/discover`, never falling back to
 * `initialize`. Needs `bash scripts/install-components.sh python-sdk`.
 */
import { createServer, request as httpRequest, type Server } from 'node:http';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { pythonSdk } from '../harness/components.js';
import { runToEnd } from '../harness/process.js';
import { startAskingServer, type AskingServer } from '../support/asking-mcp.js';
import { startGateway, type TestGateway } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';

const SCRIPT = join(import.meta.dirname, '..', 'python', 'mcp_client.py');

/** One POST as the proxy saw it: the JSON-RPC method (or `response`) and the gateway's HTTP status. */
interface Seen {
  readonly method: string;
  readonly status: number;
}

let asker: AskingServer;
let gw: TestGateway;
let proxy: Server;
let proxyUrl: string;
const seen: Seen[] = [];

/** A pass-through proxy in front of the gateway that records each POST's method and status. */
function recordingProxy(target: URL): Server {
  return createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      let method = req.method ?? '';
      if (req.method === 'POST') {
        try {
          method = (JSON.parse(body.toString('utf8')) as { method?: string }).method ?? 'response';
        } catch {
          method = 'unparsable';
        }
      }
      const upstream = httpRequest({ host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
        if (req.method === 'POST') seen.push({ method, status: answer.statusCode ?? 0 });
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      });
      upstream.on('error', () => res.destroy());
      res.on('close', () => upstream.destroy());
      upstream.end(body);
    });
  });
}

interface Run {
  readonly protocolVersion: string;
  readonly discovered: boolean;
  readonly initialized: boolean;
  readonly tools: string[];
  readonly text: string;
  readonly isError: boolean;
  readonly asked: string[];
}

/** Run the Python client in `mode`; what it printed, and the POSTs it made. */
async function python(mode: string): Promise<{ run: Run; posts: Seen[] }> {
  const from = seen.length;
  const { code, output } = await runToEnd(pythonSdk(), [SCRIPT, proxyUrl, mode], { timeoutMs: 60_000 });
  const line = output.split('\n').findLast((l) => l.startsWith('{'));
  if (code !== 0 || !line) throw new Error(`the Python client (${mode}) ended with ${code}:\n${output.slice(-3_000)}`);
  return { run: JSON.parse(line) as Run, posts: seen.slice(from) };
}

beforeAll(async () => {
  asker = await startAskingServer();
  gw = await startGateway({ backends: [{ name: 'asker', kind: 'mcp', urls: [asker.url], prefix: '' }] });
  await waitFor(() => gw.core.catalog.current().tools.has('ask_name'), 'the eliciting tool discovered', 10_000);
  proxy = recordingProxy(new URL(gw.url));
  proxyUrl = `${await listen(proxy)}${new URL(gw.url).pathname}`;
}, 30_000);

afterAll(async () => {
  if (proxy) await closeServer(proxy);
  await gw?.stop();
  await asker?.close();
});

describe('the MCP Python SDK client through the gateway', () => {
  it('pinned to 2026-07-28: lists, calls, and answers an elicitation across the bridge', async () => {
    const { run, posts } = await python('2026-07-28');
    expect(run).toMatchObject({ protocolVersion: '2026-07-28', initialized: false, text: 'hello Ada', isError: false, asked: ['Your name?'] });
    expect(run.tools).toContain('ask_name');
    expect(posts.map((p) => p.method)).not.toContain('initialize');
    // The call, then its retry with the answer (the input_required round trip).
    expect(posts.filter((p) => p.method === 'tools/call').length).toBe(2);
  }, 90_000);

  it('in auto mode: one successful server/discover, no fallback to initialize', async () => {
    const { run, posts } = await python('auto');
    expect(run).toMatchObject({ protocolVersion: '2026-07-28', discovered: true, initialized: false, text: 'hello Ada', asked: ['Your name?'] });
    expect(posts[0]).toEqual({ method: 'server/discover', status: 200 });
    expect(posts.map((p) => p.method)).not.toContain('initialize');
    expect(posts.filter((p) => p.status !== 200)).toEqual([]);
  }, 90_000);

  it('in legacy mode: a session, as before', async () => {
    const { run, posts } = await python('legacy');
    expect(run).toMatchObject({ initialized: true, discovered: false, text: 'hello Ada', asked: ['Your name?'] });
    expect(run.protocolVersion).not.toBe('2026-07-28');
    expect(posts[0]).toEqual({ method: 'initialize', status: 200 });
  }, 90_000);
});
