import { describe, expect, it } from 'vitest';
import { declaredParamHeaders, decodeHeaderValue, paramHeaderValues } from '../../src/mcp/header-values.js';
import { describeMethod } from '../../src/mcp/methods.js';
import { paramHeaderMismatch, standardHeaderMismatch } from '../../src/mcp/stateless-headers.js';
import type { JsonRpcRequest } from '../../src/mcp/jsonrpc.js';

const V = '2026-07-28';
const call = (name: string, args: Record<string, unknown> = {}): JsonRpcRequest => ({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name, arguments: args } });
const b64 = (s: string) => `=?base64?${Buffer.from(s, 'utf8').toString('base64')}?=`;

describe('header value encoding', () => {
  it('decodes the Base64 sentinel and passes plain values through', () => {
    expect(decodeHeaderValue('us-west1')).toBe('us-west1');
    expect(decodeHeaderValue('=?base64?SGVsbG8sIOS4lueVjA==?=')).toBe('Hello, 世界');
    expect(decodeHeaderValue(b64(' padded '))).toBe(' padded ');
    expect(decodeHeaderValue(b64('=?base64?literal?='))).toBe('=?base64?literal?=');
  });

  it('refuses a sentinel that does not wrap Base64 of UTF-8', () => {
    expect(decodeHeaderValue('=?base64?not base64!?=')).toBeUndefined();
    expect(decodeHeaderValue(`=?base64?${Buffer.from([0xff, 0xfe]).toString('base64')}?=`)).toBeUndefined();
  });
});

describe('standard headers', () => {
  const spec = describeMethod('tools/call');
  const ok = { 'mcp-protocol-version': V, 'mcp-method': 'tools/call', 'mcp-name': 'echo' };

  it('accepts headers that mirror the body, encoded or not', () => {
    expect(standardHeaderMismatch(ok, call('echo'), V, spec)).toBeUndefined();
    expect(standardHeaderMismatch({ ...ok, 'mcp-name': b64('grüße') }, call('grüße'), V, spec)).toBeUndefined();
  });

  it('names what is missing or disagrees', () => {
    expect(standardHeaderMismatch({ ...ok, 'mcp-protocol-version': undefined }, call('echo'), V, spec)).toMatch(/MCP-Protocol-Version header is missing/);
    expect(standardHeaderMismatch({ ...ok, 'mcp-method': undefined }, call('echo'), V, spec)).toMatch(/Mcp-Method header is missing/);
    expect(standardHeaderMismatch({ ...ok, 'mcp-method': 'tools/list' }, call('echo'), V, spec)).toMatch(/Mcp-Method header 'tools\/list' does not match body value 'tools\/call'/);
    expect(standardHeaderMismatch({ ...ok, 'mcp-name': undefined }, call('echo'), V, spec)).toMatch(/Mcp-Name header is missing/);
    expect(standardHeaderMismatch({ ...ok, 'mcp-name': 'other' }, call('echo'), V, spec)).toMatch(/Mcp-Name header 'other' does not match body value 'echo'/);
    expect(standardHeaderMismatch({ ...ok, 'mcp-name': '=?base64?%%%?=' }, call('echo'), V, spec)).toMatch(/not valid =\?base64\?/);
  });

  it('asks no Mcp-Name of methods that mirror none', () => {
    const list: JsonRpcRequest = { jsonrpc: '2.0', id: 1, method: 'tools/list' };
    expect(standardHeaderMismatch({ 'mcp-protocol-version': V, 'mcp-method': 'tools/list' }, list, V, describeMethod('tools/list'))).toBeUndefined();
  });
});

describe('Mcp-Param headers', () => {
  const schema = {
    type: 'object',
    properties: {
      region: { type: 'string', 'x-mcp-header': 'Region' },
      limit: { type: 'integer', 'x-mcp-header': 'Limit' },
      dry: { type: 'boolean', 'x-mcp-header': 'Dry' },
      where: { type: 'object', properties: { zone: { type: 'string', 'x-mcp-header': 'Zone' } } },
    },
  };
  const declared = declaredParamHeaders(schema);

  it('finds parameters reachable through properties only', () => {
    expect(declared.map((d) => `${d.header}:${d.path.join('.')}`)).toEqual(['Region:region', 'Limit:limit', 'Dry:dry', 'Zone:where.zone']);
  });

  it('compares decoded values, integers as numbers, and expects no header for absent or null values', () => {
    const args = { region: 'eu 1 ', limit: 42, dry: false, where: { zone: 'b' } };
    const headers = { 'mcp-param-region': b64('eu 1 '), 'mcp-param-limit': '42.0', 'mcp-param-dry': 'false', 'mcp-param-zone': 'b' };
    expect(paramHeaderMismatch(headers, declared, args)).toBeUndefined();
    expect(paramHeaderMismatch({}, declared, { region: null })).toBeUndefined();
  });

  it('asks for exactly the headers the gateway itself sends: none for an argument of the wrong type', () => {
    // Arguments are not checked against the schema before admission: an object, a fraction or a
    // null where a string, integer or boolean was declared gets no header on the way out.
    for (const args of [{ region: { a: 1 }, limit: 1.5, dry: 'yes', where: { zone: ['b'] } }, { region: 'Zürich', limit: -3, dry: true, where: { zone: ' b ' } }, { where: null }]) {
      expect(paramHeaderMismatch(paramHeaderValues(declared, args), declared, args)).toBeUndefined();
    }
    expect(paramHeaderMismatch({}, declared, { region: { a: 1 } })).toBeUndefined();
  });

  it('demands nothing of a tool whose declarations are invalid (clients drop such tools; discovery leaves them out)', () => {
    const twice = { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'X' }, b: { type: 'string', 'x-mcp-header': 'x' } } };
    const inItems = { type: 'object', properties: { a: { type: 'string', 'x-mcp-header': 'A' }, l: { type: 'array', items: { type: 'object', properties: { x: { type: 'string', 'x-mcp-header': 'Nope' } } } } } };
    const onObject = { type: 'object', properties: { o: { type: 'object', 'x-mcp-header': 'O' } } };
    for (const schema of [twice, inItems, onObject]) expect(paramHeaderMismatch({}, declaredParamHeaders(schema), { a: 'v', b: 'w', o: { k: 1 } })).toBeUndefined();
  });

  it('refuses a missing, different or malformed header', () => {
    expect(paramHeaderMismatch({}, declared, { region: 'eu' })).toMatch(/Mcp-Param-Region header is missing/);
    expect(paramHeaderMismatch({ 'mcp-param-region': 'us' }, declared, { region: 'eu' })).toMatch(/Mcp-Param-Region header 'us' does not match body value 'eu'/);
    expect(paramHeaderMismatch({ 'mcp-param-limit': '43' }, declared, { limit: 42 })).toMatch(/Mcp-Param-Limit/);
    expect(paramHeaderMismatch({ 'mcp-param-region': 'e\u0001u' }, declared, { region: 'eu' })).toMatch(/characters a header value may not carry/);
  });
});
