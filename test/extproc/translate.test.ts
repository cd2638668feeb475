import { describe, expect, it } from 'vitest';
import { answerMetadata, directRoute, failedCallOf, readHeaders, routeTo, sourceAddress, toGatewayRequest } from '../../src/extproc/translate.js';
import type { DirectCallPlan } from '../../src/upstream/direct.js';

const h = (pairs: Array<[string, string]>) => ({ headers: { headers: pairs.map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) } });

describe('ext_proc translation', () => {
  it('splits pseudo, ordinary and internal headers; joins repeated ones; maps :authority to host', () => {
    const r = readHeaders(h([[':method', 'POST'], [':path', '/mcp?x=1'], [':authority', 'gw'], ['Accept', 'a'], ['accept', 'b'], ['X-MCP-Gateway-Subject', 'root']]));
    expect(r.pseudo).toEqual({ ':method': 'POST', ':path': '/mcp?x=1', ':authority': 'gw' });
    expect(r.headers).toEqual({ accept: 'a, b' });
    expect(r.internal).toEqual(['x-mcp-gateway-subject']);
    const req = toGatewayRequest(r, Buffer.from('{}'), '10.1.2.3');
    expect(req).toEqual({ method: 'POST', url: '/mcp?x=1', headers: { accept: 'a, b', host: 'gw' }, body: '{}', bodyBytes: 2, remoteAddress: '10.1.2.3' });
  });

  it('reads the value field when raw_value is empty', () => {
    expect(readHeaders({ headers: { headers: [{ key: 'accept', value: 'x', raw_value: Buffer.alloc(0) }] } }).headers).toEqual({ accept: 'x' });
  });

  it('takes the ip of the source.address attribute, IPv4 or IPv6', () => {
    const attr = (v: string) => ({ attributes: { 'envoy.filters.http.ext_proc': { fields: { 'source.address': { stringValue: v } } } } });
    expect(sourceAddress(attr('127.0.0.1:4242'))).toBe('127.0.0.1');
    expect(sourceAddress(attr('[::1]:4242'))).toBe('::1');
    expect(sourceAddress({})).toBeUndefined();
  });

  it('overwrites the route header rather than removing it', () => {
    const r = routeTo('broker', ['x-mcp-gateway-route', 'x-mcp-gateway-tenant']);
    expect(r.header_mutation?.set_headers?.[0]).toMatchObject({ header: { key: 'x-mcp-gateway-route' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' });
    expect(r.header_mutation?.remove_headers).toEqual(['x-mcp-gateway-tenant']);
    expect(r.clear_route_cache).toBe(true);
  });

  it('routes a call to its backend: route first, then the gateway\'s, the session\'s and the call\'s headers; client copies and client-only headers removed', () => {
    const plan: DirectCallPlan = {
      sessionId: 's', backend: 'echo', instance: 'http://[::1]:5000/mcp', address: { host: '::1', port: 5000 }, pinned: true, path: '/mcp?x=1',
      headers: { 'mcp-protocol-version': '2025-11-25', 'mcp-session-id': 'backend-1' }, body: Buffer.from('{"id":1}'), retrySafe: false, budgetMs: 30_000, timeoutMs: 29_990, requestId: 1, stateless: false,
    };
    const internal = ['x-mcp-gateway-route', 'x-mcp-gateway-tool', 'x-mcp-gateway-tenant'];
    for (let i = 0; i < 2; i++) {
      const r = directRoute(plan, 'mcp_backend_echo', internal, { 'x-mcp-gateway-tool': 'echo_echo' });
      const set = r.header_mutation!.set_headers!.map((o) => [o.header.key, o.header.raw_value!.toString('latin1')]);
      expect(set).toEqual([
        ['x-mcp-gateway-route', 'mcp_backend_echo'],
        ['x-mcp-gateway-tool', 'echo_echo'],
        ['mcp-protocol-version', '2025-11-25'],
        ['mcp-session-id', 'backend-1'],
        [':path', '/mcp?x=1'],
        ['content-length', '8'],
        ['x-mcp-gateway-retry', 'unsent-only'],
        ['x-envoy-upstream-rq-timeout-ms', '29990'],
        ['x-mcp-gateway-upstream-host', Buffer.from('[::1]:5000').toString('base64')],
      ]);
      expect(r.header_mutation!.remove_headers).toEqual(['x-mcp-gateway-tenant', 'authorization', 'cookie', 'last-event-id']);
      expect(r.body_mutation!.body!.toString()).toBe('{"id":1}');
      expect(r.clear_route_cache).toBe(true);
    }
  });

  it("names a routed call on its answer with what another replica needs to answer its failure, and reads it back", () => {
    const plan = { backend: 'notes', budgetMs: 1500, pinned: true, stateless: false } as DirectCallPlan;
    const carried = answerMetadata({ 'access-control-allow-origin': 'http://localhost:5173' }, { id: 'c-1', plan }, '"req-7"')!.fields['mcp.gateway']!.structValue.fields;
    expect(carried).toEqual({ cors_origin: { stringValue: 'http://localhost:5173' }, call: { stringValue: 'c-1;1500;p;notes' }, rpc_id: { stringValue: '"req-7"' } });
    // Nothing to carry for a call routed to the broker from a non-browser client.
    expect(answerMetadata({})).toBeUndefined();
    // envoy.yaml's backend routes copy `call` and `rpc_id` onto the answer as these headers.
    const answer = (extra: Record<string, string>) => ({ headers: { headers: Object.entries({ ':status': '404', ...extra }).map(([key, v]) => ({ key, raw_value: Buffer.from(v) })) } });
    expect(failedCallOf(answer({ 'x-mcp-gateway-call': carried.call!.stringValue, 'x-mcp-gateway-rpc-id': carried.rpc_id!.stringValue }))).toEqual({ id: 'c-1', facts: { requestId: 'req-7', backend: 'notes', budgetMs: 1500, pinned: true, stateless: false } });
    // Named but without the facts (no JSON-RPC id, or a broken one): only the call's own replica can answer.
    expect(failedCallOf(answer({ 'x-mcp-gateway-call': 'c-2;800;s;modern', 'x-mcp-gateway-rpc-id': '3' }))).toEqual({ id: 'c-2', facts: { requestId: 3, backend: 'modern', budgetMs: 800, pinned: false, stateless: true } });
    expect(failedCallOf(answer({ 'x-mcp-gateway-call': 'c-1;1500;;notes' }))).toEqual({ id: 'c-1', facts: undefined });
    expect(failedCallOf(answer({ 'x-mcp-gateway-call': 'c-1;1500;;notes', 'x-mcp-gateway-rpc-id': '{oops' }))).toEqual({ id: 'c-1', facts: undefined });
    expect(failedCallOf(answer({}))).toBeUndefined();
  });
});
