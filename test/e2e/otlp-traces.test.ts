import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sessionRef } from '../../src/telemetry/audit.js';
import { jsonOf, rawInitialize, rawPost, startGateway } from '../support/gateway.js';
import { startOtelcol } from '../harness/otelcol.js';
import { startGatewayProcess } from '../support/cli-process.js';
import { startLibraryServer } from '../support/library-mcp.js';
import { waitFor } from '../support/wait.js';
import { startOtlpReceiver, type OtlpReceiver } from '../support/otlp-receiver.js';

const TRACE_ID = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

let receiver: OtlpReceiver;
let backend: Server;
let backendUrl: string;
const seen: IncomingHttpHeaders[] = [];
let dir: string;

/** A REST backend that notes the headers it gets. */
async function startOrders(): Promise<void> {
  backend = createServer((req, res) => {
    seen.push(req.headers);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ id: req.url?.split('/').pop(), status: 'shipped' }));
  });
  await new Promise<void>((r) => backend.listen(0, '127.0.0.1', r));
  backendUrl = `http://127.0.0.1:${(backend.address() as AddressInfo).port}`;
}

const TOOLS = [{ name: 'get_order', inputSchema: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] }, http: { method: 'GET', path: '/orders/{id}' } }];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gw-otlp-'));
  receiver = await startOtlpReceiver();
  await startOrders();
});

afterAll(async () => {
  await receiver?.close();
  await new Promise((r) => (backend ? backend.close(r) : r(undefined)));
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('OTLP trace export', () => {
  it('exports the spans of a tools/call with the MCP attributes, flushed when the gateway stops', async () => {
    const file = join(dir, 'gateway.json');
    await writeFile(file, JSON.stringify({
      server: { host: '127.0.0.1', port: 0 },
      audit: { sink: 'off' },
      tracing: { serviceName: 'gateway-under-test', otlp: { endpoint: receiver.url, headers: { 'x-collector-token': 'secret-1' } } },
      backends: [{ name: 'orders', kind: 'rest', urls: [backendUrl], tools: TOOLS }],
    }));
    // Batches would wait ten minutes: only the flush at shutdown can deliver these spans.
    const gw = await startGatewayProcess(file, { OTEL_BSP_SCHEDULE_DELAY: '600000' });
    try {
      const { sessionId } = await rawInitialize(gw.url);
      const traceparent = `00-${TRACE_ID}-${CALLER_SPAN}-01`;
      const body = await jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 41, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '7' } } }, { traceparent }));
      expect(body.result.isError).toBeFalsy();
      expect(receiver.spans).toEqual([]);
      gw.child.kill('SIGTERM');
      expect(await gw.exited).toBe(0);

      const server = receiver.spans.find((s) => s.kind === 'server')!;
      expect(server).toMatchObject({
        name: 'tools/call orders_get_order',
        traceId: TRACE_ID,
        parentSpanId: CALLER_SPAN,
        scope: 'mcp-gateway',
        resource: { 'service.name': 'gateway-under-test' },
        attributes: {
          'mcp.method.name': 'tools/call',
          'gen_ai.tool.name': 'orders_get_order',
          'gen_ai.operation.name': 'execute_tool',
          'mcp.session.id': sessionRef(sessionId),
          'mcp.protocol.version': '2025-11-25',
          'jsonrpc.request.id': '41',
          'mcp.gateway.backend': 'orders',
          'mcp.gateway.outcome': 'ok',
        },
      });
      const client = receiver.spans.find((s) => s.kind === 'client')!;
      expect(client).toMatchObject({
        name: 'tools/call get_order',
        traceId: TRACE_ID,
        parentSpanId: server.spanId,
        attributes: { 'server.address': '127.0.0.1', 'server.port': Number(new URL(backendUrl).port), 'mcp.gateway.instance': backendUrl },
      });
      expect(receiver.spans).toHaveLength(2);
      // The backend continues the gateway's client span, in the caller's trace.
      expect(seen.at(-1)!.traceparent).toBe(`00-${TRACE_ID}-${client.spanId}-01`);
      expect(receiver.exports.every((h) => h['x-collector-token'] === 'secret-1')).toBe(true);
    } finally {
      gw.child.kill('SIGKILL');
    }
  });

  it('samples no new trace at ratio 0, and still passes a caller trace on', async () => {
    receiver.spans.length = 0;
    const gw = await startGateway({
      tracing: { samplingRatio: 0, otlp: { endpoint: receiver.url } },
      backends: [{ name: 'orders', kind: 'rest', urls: [backendUrl], tools: TOOLS }],
    });
    const { sessionId } = await rawInitialize(gw.url);
    await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '8' } } });
    const unsampled = seen.at(-1)!.traceparent as string;
    // A caller that sampled its trace gets it recorded whatever the ratio.
    await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '9' } } }, { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
    await gw.stop();
    expect(unsampled).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
    expect(receiver.spans.map((s) => [s.name, s.traceId])).toEqual([
      ['tools/call get_order', TRACE_ID],
      ['tools/call orders_get_order', TRACE_ID],
    ]);
  });

  it('names a prompt span by the prompt, and keeps a resource URI an attribute, out of the span name', async () => {
    receiver.spans.length = 0;
    const library = await startLibraryServer('library');
    const gw = await startGateway({ tracing: { otlp: { endpoint: receiver.url } }, backends: [{ name: 'library', kind: 'mcp', urls: [library.url] }] });
    try {
      await waitFor(() => gw.core.catalog.current().prompts.has('library_summarize'), 'the library discovered');
      const { sessionId } = await rawInitialize(gw.url);
      const prompt = await jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 1, method: 'prompts/get', params: { name: 'library_summarize', arguments: { topic: 'intro' } } }));
      expect(prompt.result.messages).toHaveLength(2);
      const read = await jsonOf(await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 2, method: 'resources/read', params: { uri: 'mcpgw://library/file:///docs/intro' } }));
      expect(read.result.contents).toHaveLength(1);
    } finally {
      await gw.stop();
      await library.close();
    }
    const servers = receiver.spans.filter((s) => s.kind === 'server');
    expect(servers.map((s) => s.name).sort()).toEqual(['prompts/get library_summarize', 'resources/read']);
    expect(servers.find((s) => s.name === 'resources/read')!.attributes).toMatchObject({ 'mcp.method.name': 'resources/read', 'mcp.resource.uri': 'mcpgw://library/file:///docs/intro' });
    expect(servers.find((s) => s.name.startsWith('prompts/get'))!.attributes).toMatchObject({ 'mcp.method.name': 'prompts/get', 'gen_ai.prompt.name': 'library_summarize' });
    expect(receiver.spans.filter((s) => s.kind === 'client').map((s) => s.attributes['server.address'])).toEqual(['127.0.0.1', '127.0.0.1']);
  });

  it('reach a real OpenTelemetry Collector, which decodes them with their MCP attributes and parents', async () => {
    const collector = await startOtelcol();
    try {
      const gw = await startGateway({
        tracing: { serviceName: 'gateway-to-collector', otlp: { endpoint: collector.url } },
        backends: [{ name: 'orders', kind: 'rest', urls: [backendUrl], tools: TOOLS }],
      });
      const { sessionId } = await rawInitialize(gw.url);
      await rawPost(gw.url, sessionId, { jsonrpc: '2.0', id: 'c-1', method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '5' } } }, { traceparent: `00-${TRACE_ID}-${CALLER_SPAN}-01` });
      await gw.stop();
      await waitFor(() => collector.spans().length >= 2, 'the collector to print both spans');
      const spans = collector.spans();
      const server = spans.find((s) => s.kind === 'Server')!;
      expect(server).toMatchObject({
        name: 'tools/call orders_get_order',
        traceId: TRACE_ID,
        parentId: CALLER_SPAN,
        resource: { 'service.name': 'gateway-to-collector' },
        attributes: { 'mcp.method.name': 'tools/call', 'gen_ai.tool.name': 'orders_get_order', 'mcp.session.id': sessionRef(sessionId), 'jsonrpc.request.id': 'c-1', 'mcp.gateway.outcome': 'ok' },
      });
      expect(spans.find((s) => s.kind === 'Client')).toMatchObject({
        name: 'tools/call get_order',
        traceId: TRACE_ID,
        parentId: server.spanId,
        attributes: { 'server.address': '127.0.0.1', 'server.port': new URL(backendUrl).port },
      });
    } finally {
      await collector.stop();
    }
  });
});
