/**
 * A list watch reuses one long-lived signal for every retry of a backend's GET stream; undici keeps
 * an abort listener on that signal until each stream's body closes. A stream the watch gives up on
 * (a message it cannot read) must be closed, or the listeners pile up (Node warns at 11). A real
 * node:http backend on port 0 that answers as a session-era server whose GET stream turns bad.
 */
import { getEventListeners } from 'node:events';
import { createServer } from 'node:http';
import { afterAll, describe, expect, it } from 'vitest';
import { Agent } from 'undici';
import { pino } from 'pino';
import { closeServer, listen } from '../../examples/backends/listen.js';
import { backendSchema, type McpBackendConfig } from '../../src/config/schema.js';
import { BackendEras } from '../../src/upstream/backend-eras.js';
import { OutboundCredentials } from '../../src/upstream/credentials.js';
import { McpDiscovery } from '../../src/upstream/mcp-discovery.js';
import { Pools } from '../../src/upstream/pool.js';
import { StatelessBackends } from '../../src/upstream/stateless-backend.js';
import { waitFor } from '../support/wait.js';

const dispatcher = new Agent();
afterAll(() => dispatcher.close());

describe('watching a backend for list changes', () => {
  it('closes a GET stream it cannot read, leaving no listener on the watch signal', async () => {
    const http = createServer(async (req, res) => {
      let text = '';
      for await (const c of req) text += c;
      if (req.method === 'GET') {
        res.writeHead(200, { 'content-type': 'text/event-stream' });
        return void res.write('data: {not json\n\n'); // and stays open
      }
      if (req.method === 'DELETE') return void res.writeHead(200).end();
      const m = JSON.parse(text);
      if (m.method !== 'initialize') return void res.writeHead(202).end();
      const result = { protocolVersion: '2025-11-25', capabilities: { tools: { listChanged: true } }, serverInfo: { name: 'bad-stream', version: '1' } };
      res.writeHead(200, { 'content-type': 'application/json', 'mcp-session-id': 's1' }).end(JSON.stringify({ jsonrpc: '2.0', id: m.id, result }));
    });
    const base = await listen(http);
    try {
      const pools = new Pools(1_000);
      const credentials = new OutboundCredentials(dispatcher, pino({ level: 'silent' }));
      const clientInfo = { name: 'gw', version: '1' };
      const eras = new BackendEras(dispatcher, pools, clientInfo, { credentials, defaultTimeoutMs: 5_000 });
      const discovery = new McpDiscovery({ dispatcher, pools, defaultTimeoutMs: 5_000, credentials, clientInfo, eras, stateless: new StatelessBackends(dispatcher, pools) });
      const backend = backendSchema.parse({ name: 'b', kind: 'mcp', urls: [`${base}/mcp`], era: 'session' }) as McpBackendConfig;
      const watch = new AbortController();
      await expect(discovery.watchLists(backend, () => undefined, watch.signal)).rejects.toThrow(/not JSON/);
      await waitFor(() => getEventListeners(watch.signal, 'abort').length === 0, 'the stream closed and its abort listener removed', 2_000);
    } finally {
      await closeServer(http);
    }
  });
});
