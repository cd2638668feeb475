/**
 * Plays Envoy for two stateless (2026-07-28) clients of one caller whose `tools/call`s carry the
 * same request id, both routed straight to a stateless backend (the real 2.4 SDK server): both
 * share the caller's gateway-held record, yet shutdown must cut, and audit, each of them.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clusterName } from '../../src/xds/clusters.js';
import { body, extProcClient, headers, openStream as open, setHeaders } from '../support/extproc-stream.js';
import { MCP_HEADERS, startExtProc } from '../support/gateway.js';
import { startModernServer, type ModernServer } from '../support/modern-mcp.js';
import { waitFor } from '../support/wait.js';

let modern: ModernServer;
let dir: string;

beforeAll(async () => {
  modern = await startModernServer('modern', { resources: false });
  dir = await mkdtemp(join(tmpdir(), 'gw-audit-'));
});

afterAll(async () => {
  await modern?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const CALL = {
  jsonrpc: '2.0',
  id: 1,
  method: 'tools/call',
  params: {
    name: 'modern_echo',
    arguments: { text: 'x' },
    _meta: { 'io.modelcontextprotocol/protocolVersion': '2026-07-28', 'io.modelcontextprotocol/clientCapabilities': {}, 'io.modelcontextprotocol/clientInfo': { name: 'agent', version: '1' } },
  },
};

it('cuts and audits both routed calls still streaming when the gateway stops, though they share a record and a request id', async () => {
  const auditFile = join(dir, 'audit.jsonl');
  const gw = await startExtProc({ audit: { sink: 'file', file: auditFile, flushIntervalMs: 0 }, backends: [{ name: 'modern', kind: 'mcp', urls: [modern.url] }] });
  const c = extProcClient(gw.extprocPort);
  try {
    await waitFor(() => gw.core.catalog.current().tools.has('modern_echo'), 'the modern tools discovered');
    for (let i = 0; i < 2; i++) {
      const s = open(c);
      await s.send(headers('POST', { ...MCP_HEADERS, 'mcp-protocol-version': '2026-07-28', 'mcp-method': 'tools/call', 'mcp-name': 'modern_echo' }));
      const routed = await s.send(body(CALL));
      expect(setHeaders(routed.request_body.response.header_mutation)['x-mcp-gateway-route']).toBe(clusterName('modern'));
    }
    // Neither exchange has ended (Envoy would still be streaming the answers) when the gateway stops.
    await gw.stop(100);
    const events = (await readFile(auditFile, 'utf8')).split('\n').filter(Boolean).map((l) => JSON.parse(l));
    expect(events.filter((e) => e.event === 'mcp.tool_call').map((e) => [e.tool, e.outcome, e.errorCode])).toEqual([
      ['modern_echo', 'cut', 'GW_SHUTTING_DOWN'],
      ['modern_echo', 'cut', 'GW_SHUTTING_DOWN'],
    ]);
  } finally {
    c.close();
    await gw.stop().catch(() => undefined);
  }
});
