/**
 * The wire pieces of the gateway's stateless-era requests: header values (the Base64 sentinel),
 * `Mcp-Name` and `Mcp-Param-*` from the body and the tool's `x-mcp-header` declarations, `_meta`,
 * and what a session-era client reads of a stateless result.
 */
import { describe, expect, it } from 'vitest';
import { encodeHeaderValue, nameHeaderSource, paramHeadersOf, paramHeaderValues } from '../../src/mcp/header-values.js';
import { asSessionResult, statelessEndpoint, statelessRequest } from '../../src/upstream/stateless-wire.js';

describe('header values', () => {
  it('keeps plain ASCII and encodes everything else as the specification table does', () => {
    expect(encodeHeaderValue('us-west1')).toBe('us-west1');
    expect(encodeHeaderValue('Hello, 世界')).toBe('=?base64?SGVsbG8sIOS4lueVjA==?=');
    expect(encodeHeaderValue(' padded ')).toBe('=?base64?IHBhZGRlZCA=?=');
    expect(encodeHeaderValue('line1\nline2')).toBe('=?base64?bGluZTEKbGluZTI=?=');
    expect(encodeHeaderValue('=?base64?literal?=')).toBe('=?base64?PT9iYXNlNjQ/bGl0ZXJhbD89?=');
  });

  it('mirrors params.name for tools/call and prompts/get, params.uri for resources/read, nothing otherwise', () => {
    expect(nameHeaderSource('tools/call', { name: 'get_weather' })).toBe('get_weather');
    expect(nameHeaderSource('prompts/get', { name: 'greet' })).toBe('greet');
    expect(nameHeaderSource('resources/read', { uri: 'file:///a b' })).toBe('file:///a b');
    expect(nameHeaderSource('tools/list', { name: 'x' })).toBeUndefined();
  });
});

describe('x-mcp-header', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      limit: { type: 'integer', 'x-mcp-header': 'Limit' },
      dry: { type: 'boolean', 'x-mcp-header': 'Dry-Run' },
      nested: { type: 'object', properties: { tenant: { type: 'string', 'x-mcp-header': 'Tenant' } } },
      query: { type: 'string' },
    },
  };

  it('mirrors present primitive arguments, nested ones by their property path, and omits absent or null ones', () => {
    const declared = paramHeadersOf(schema);
    if (!('headers' in declared)) throw new Error(declared.problem);
    expect(paramHeaderValues(declared.headers, { region: 'Zürich', limit: 42, dry: false, nested: { tenant: 'acme' }, query: 'x' })).toEqual({
      'mcp-param-region': '=?base64?WsO8cmljaA==?=',
      'mcp-param-limit': '42',
      'mcp-param-dry-run': 'false',
      'mcp-param-tenant': 'acme',
    });
    expect(paramHeaderValues(declared.headers, { region: null })).toEqual({});
  });

  it('finds invalid declarations, which make the tool unusable', () => {
    const problem = (s: unknown): string | undefined => {
      const r = paramHeadersOf(s);
      return 'problem' in r ? r.problem : undefined;
    };
    expect(problem({ type: 'object', properties: { n: { type: 'number', 'x-mcp-header': 'N' } } })).toMatch(/string, integer or boolean/);
    expect(problem({ type: 'object', properties: { l: { type: 'array', items: { type: 'string', 'x-mcp-header': 'L' } } } })).toMatch(/reached through "properties"/);
    expect(problem({ type: 'object', oneOf: [{ properties: { a: { type: 'string', 'x-mcp-header': 'A' } } }] })).toMatch(/reached through "properties"/);
    expect(problem({ type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'Has Space' } } })).toMatch(/HTTP token/);
    expect(problem({ type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } })).toMatch(/declared twice/);
    expect(problem(schema)).toBeUndefined();
  });
});

describe('stateless requests', () => {
  const meta = { clientCapabilities: { sampling: {} }, clientInfo: { name: 'mcp-gateway', version: '1' } };

  it('carry the protocol version, capabilities and client info in _meta, keeping the client own _meta keys', () => {
    const r = statelessRequest('tools/call', { name: 'echo', _meta: { progressToken: 7 } }, { ...meta, logLevel: 'info' });
    expect(r.params?._meta).toEqual({
      progressToken: 7,
      'io.modelcontextprotocol/protocolVersion': '2026-07-28',
      'io.modelcontextprotocol/clientCapabilities': { sampling: {} },
      'io.modelcontextprotocol/clientInfo': { name: 'mcp-gateway', version: '1' },
      'io.modelcontextprotocol/logLevel': 'info',
    });
    expect(statelessRequest('tools/list', {}, meta).params?._meta).not.toHaveProperty('io.modelcontextprotocol/logLevel');
  });

  it('mirror the method, the name (encoded when not plain) and the tool parameters into headers, with no session', () => {
    const r = statelessRequest('tools/call', { name: 'météo', arguments: { region: 'eu' } }, meta);
    const ep = statelessEndpoint('http://b/mcp', { authorization: 'Bearer gw' }, r, [{ header: 'Region', path: ['region'] }]);
    expect(ep).toEqual({
      url: 'http://b/mcp',
      protocolVersion: '2026-07-28',
      headers: { authorization: 'Bearer gw', 'mcp-method': 'tools/call', 'mcp-name': `=?base64?${Buffer.from('météo').toString('base64')}?=`, 'mcp-param-region': 'eu' },
    });
    expect(ep.sessionId).toBeUndefined();
  });

  it('a session-era client reads a result without resultType and without the backend serverInfo', () => {
    const result = { resultType: 'complete', content: [], _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'b' }, trace: 1 } };
    expect(asSessionResult(result)).toEqual({ content: [], _meta: { trace: 1 } });
    expect(asSessionResult({ resultType: 'complete', content: [], _meta: { 'io.modelcontextprotocol/serverInfo': { name: 'b' } } })).toEqual({ content: [] });
  });
});
