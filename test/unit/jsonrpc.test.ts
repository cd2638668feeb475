import { describe, expect, it } from 'vitest';
import { parseMessage } from '../../src/mcp/jsonrpc.js';

describe('JSON-RPC parsing', () => {
  it('accepts requests, notifications and responses', () => {
    expect(parseMessage('{"jsonrpc":"2.0","id":1,"method":"ping"}').ok).toBe(true);
    expect(parseMessage('{"jsonrpc":"2.0","method":"notifications/initialized"}').ok).toBe(true);
    expect(parseMessage('{"jsonrpc":"2.0","id":"x","result":{}}').ok).toBe(true);
    expect(parseMessage('{"jsonrpc":"2.0","id":"x","error":{"code":1,"message":"m"}}').ok).toBe(true);
  });

  it.each([
    ['not json', -32700, null],
    ['[]', -32600, null],
    ['"text"', -32600, null],
    ['{"jsonrpc":"2.0","id":3,"method":7}', -32600, 3],
    ['{"jsonrpc":"2.0","id":{},"method":"x"}', -32600, null],
    ['{"jsonrpc":"2.0","id":4,"method":"x","params":[1]}', -32600, 4],
    ['{"jsonrpc":"2.0","id":5}', -32600, 5],
  ])('rejects %s with %i, keeping id %s', (body, code, id) => {
    const r = parseMessage(body);
    expect(r.ok).toBe(false);
    if (!r.ok) {
      expect(r.error.error.code).toBe(code);
      expect(r.error.id).toBe(id);
    }
  });
});
