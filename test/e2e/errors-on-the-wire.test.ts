import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startOrdersApi, type OrdersApi } from '../../examples/backends/orders-api.js';
import { documentedErrors, readDoc, TOOL_RESULT_CELL } from '../support/docs.js';
import { deadUrl } from '../support/http-backends.js';
import { jsonOf, MCP_HEADERS, ORDER_TOOLS, rawInitialize, rawPost, startGateway, type TestGateway } from '../support/gateway.js';
import { modernClient } from '../support/stateless-client.js';

/*
 * docs/errors.md read as a contract: for a representative set of codes, a real standalone gateway's
 * answer has the documented HTTP status, JSON-RPC code, and the gateway code where the page says
 * it is (`error.data.code`, or the `_meta` key of a tool result). The figures come from the page,
 * not from src/errors.ts, so the page cannot drift from the wire.
 */

const table = documentedErrors();
/** The `_meta` key the page promises on tool errors, as the page spells it. */
const metaKey = /result\._meta\["([^"]+)"\]/.exec(readDoc('docs/errors.md'))?.[1];

let orders: OrdersApi;
let gw: TestGateway;
let sid: string;
let legacySid: string;

beforeAll(async () => {
  orders = await startOrdersApi();
  gw = await startGateway({
    server: { maxBodyBytes: 4096 },
    backends: [
      { name: 'orders', kind: 'rest', urls: [orders.url], tools: ORDER_TOOLS },
      { name: 'dead', kind: 'rest', urls: [await deadUrl()], tools: [{ name: 'ping', annotations: { readOnlyHint: true }, http: { method: 'GET', path: '/ping' } }] },
    ],
  });
  sid = (await rawInitialize(gw.url)).sessionId;
  legacySid = (await rawInitialize(gw.url, '2025-03-26')).sessionId;
});

afterAll(async () => {
  await gw?.stop();
  await orders?.close();
});

/** An answer that is a JSON-RPC error: documented status, JSON-RPC code and `error.data.code`. */
async function expectWireError(code: string, res: Response): Promise<any> {
  const row = table.get(code);
  expect(row, `docs/errors.md documents ${code}`).toBeDefined();
  expect(String(res.status), `${code}: HTTP status`).toBe(row!.status);
  const body = await jsonOf(res);
  const error = Array.isArray(body) ? body[0].error : body.error;
  expect(String(error?.code), `${code}: JSON-RPC code`).toBe(row!.rpcCode);
  expect(error.data?.code, `${code}: error.data.code`).toBe(code);
  return body;
}

/** A tool result that is a gateway error: HTTP 200 as documented, `isError`, and the code under the documented `_meta` key. */
function expectToolError(code: string, status: number, result: any): void {
  const row = table.get(code);
  expect(row, `docs/errors.md documents ${code}`).toBeDefined();
  expect(row!.rpcCode, `${code} is documented as a tool result`).toBe(TOOL_RESULT_CELL);
  expect(String(status), `${code}: HTTP status`).toBe(row!.status);
  expect(result.isError, `${code}: isError`).toBe(true);
  expect(result._meta?.[metaKey!], `${code}: _meta["${metaKey}"]`).toBe(code);
}

const list = { jsonrpc: '2.0', id: 7, method: 'tools/list' };
const call = (name: string, args: unknown, id: number | string = 9) => ({ jsonrpc: '2.0', id, method: 'tools/call', params: { name, arguments: args } });

describe('docs/errors.md against a standalone gateway', () => {
  it('names the _meta key of tool errors', () => {
    expect(metaKey).toBe('io.github.mcp-gateway/error');
  });

  describe('HTTP errors carry error.data.code', () => {
    it('GW_PARSE_ERROR: a body that is not JSON', async () => {
      const body = await expectWireError('GW_PARSE_ERROR', await rawPost(gw.url, sid, '{"jsonrpc": "2.0", '));
      expect(body.id).toBeNull();
    });

    it('GW_INVALID_REQUEST: not JSON-RPC 2.0, the id kept', async () => {
      const body = await expectWireError('GW_INVALID_REQUEST', await rawPost(gw.url, sid, { jsonrpc: '1.0', id: 'x1', method: 'tools/list' }));
      expect(body.id).toBe('x1');
    });

    it('GW_INVALID_REQUEST: batch refusals (no session, a later revision, empty, initialize inside)', async () => {
      const batch = [list, { ...list, id: 8 }];
      await expectWireError('GW_INVALID_REQUEST', await rawPost(gw.url, undefined, batch));
      await expectWireError('GW_INVALID_REQUEST', await rawPost(gw.url, sid, batch));
      await expectWireError('GW_INVALID_REQUEST', await rawPost(gw.url, legacySid, []));
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-03-26', capabilities: {}, clientInfo: { name: 'b', version: '1' } } };
      // Inside an accepted batch a refused message is answered in its place, the others still served.
      const mixed = await rawPost(gw.url, legacySid, [init, list]);
      expect(mixed.status).toBe(200);
      const [refused, listed] = await jsonOf(mixed);
      expect(refused).toMatchObject({ id: 1, error: { code: Number(table.get('GW_INVALID_REQUEST')!.rpcCode), data: { code: 'GW_INVALID_REQUEST' } } });
      expect(listed.result.tools.length).toBeGreaterThan(0);
      expect(readDoc('docs/errors.md')).toContain('inside a batch is answered in its place in the batch');
    });

    it('GW_UNSUPPORTED_MEDIA_TYPE, GW_NOT_ACCEPTABLE, GW_PAYLOAD_TOO_LARGE', async () => {
      await expectWireError('GW_UNSUPPORTED_MEDIA_TYPE', await rawPost(gw.url, sid, list, { 'content-type': 'text/plain' }));
      await expectWireError('GW_NOT_ACCEPTABLE', await rawPost(gw.url, sid, list, { accept: 'text/html' }));
      await expectWireError('GW_PAYLOAD_TOO_LARGE', await rawPost(gw.url, sid, call('orders_create_order', { item: 'x'.repeat(5000), quantity: 1 })));
    });

    it('GW_SESSION_REQUIRED and GW_SESSION_NOT_FOUND', async () => {
      await expectWireError('GW_SESSION_REQUIRED', await fetch(gw.url, { method: 'POST', headers: MCP_HEADERS, body: JSON.stringify(list) }));
      await expectWireError('GW_SESSION_NOT_FOUND', await rawPost(gw.url, 'no-such-session', list));
    });
  });

  describe('JSON-RPC errors carry error.data.code and the id', () => {
    it('GW_METHOD_NOT_FOUND, GW_INVALID_PARAMS, GW_UNKNOWN_TOOL', async () => {
      const unknown = await expectWireError('GW_METHOD_NOT_FOUND', await rawPost(gw.url, sid, { jsonrpc: '2.0', id: 21, method: 'no/such' }));
      expect(unknown.id).toBe(21);
      await expectWireError('GW_INVALID_PARAMS', await rawPost(gw.url, sid, call('orders_get_order', 'not an object')));
      await expectWireError('GW_UNKNOWN_TOOL', await rawPost(gw.url, sid, call('orders_no_such_tool', {})));
    });
  });

  describe('tool errors carry the _meta key', () => {
    it('GW_ARGUMENTS_INVALID (session client)', async () => {
      const res = await rawPost(gw.url, sid, call('orders_get_order', { id: 'abc' }));
      expectToolError('GW_ARGUMENTS_INVALID', res.status, (await jsonOf(res)).result);
    });

    it('GW_ARGUMENTS_INVALID (REST path argument) and the upstream codes', async () => {
      const empty = await rawPost(gw.url, sid, call('orders_track_order', { id: '..' }));
      expectToolError('GW_ARGUMENTS_INVALID', empty.status, (await jsonOf(empty)).result);
      const missing = await rawPost(gw.url, sid, call('orders_get_order', { id: '999999' }));
      expectToolError('GW_UPSTREAM_HTTP_ERROR', missing.status, (await jsonOf(missing)).result);
      const down = await rawPost(gw.url, sid, call('dead_ping', {}));
      expectToolError('GW_UPSTREAM_UNAVAILABLE', down.status, (await jsonOf(down)).result);
    });

    it('GW_ARGUMENTS_INVALID (stateless 2026-07-28 client, the official 2.x SDK)', async () => {
      const client = await modernClient(gw.url, { mode: 'pin' });
      try {
        expectToolError('GW_ARGUMENTS_INVALID', 200, await client.callTool({ name: 'orders_get_order', arguments: { id: 'abc' } }));
      } finally {
        await client.close();
      }
    });
  });
});
