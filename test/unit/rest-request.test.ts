import { describe, expect, it } from 'vitest';
import { buildRestRequest, joinUrl } from '../../src/upstream/rest-request.js';
import { GatewayError } from '../../src/errors.js';

describe('REST request mapping', () => {
  it('fills path placeholders (encoded) and sends the other arguments as query for GET', () => {
    const r = buildRestRequest({ method: 'GET', path: '/users/{id}/orders' }, { id: 'a b/c', status: 'open', tags: ['x', 'y'], limit: 5 });
    expect(r).toEqual({ method: 'GET', path: '/users/a%20b%2Fc/orders?status=open&tags=x&tags=y&limit=5', headers: {} });
  });

  it('sends the other arguments as JSON body for POST', () => {
    const r = buildRestRequest({ method: 'POST', path: '/orders/{id}/items' }, { id: 7, sku: 'k-1', qty: 2 });
    expect(r.path).toBe('/orders/7/items');
    expect(JSON.parse(r.body!)).toEqual({ sku: 'k-1', qty: 2 });
    expect(r.headers['content-type']).toBe('application/json');
  });

  it('follows explicit query, header and body templates, keeping value types for whole placeholders', () => {
    const r = buildRestRequest(
      {
        method: 'PUT',
        path: '/v1/items',
        query: { dry: '{dryRun}', q: 'name:{name}' },
        headers: { 'X-Tenant': '{tenant}' },
        body: { item: { name: '{name}', count: '{count}', fixed: true }, note: 'by {tenant}' },
      },
      { dryRun: true, name: 'bolt', count: 3, tenant: 'acme' },
    );
    expect(r.path).toBe('/v1/items?dry=true&q=name%3Abolt');
    expect(r.headers['x-tenant']).toBe('acme');
    expect(JSON.parse(r.body!)).toEqual({ item: { name: 'bolt', count: 3, fixed: true }, note: 'by acme' });
  });

  it('omits optional query values that are absent and sends no body when told', () => {
    const r = buildRestRequest({ method: 'POST', path: '/x', query: { a: '{a}' }, body: 'none' }, {});
    expect(r).toEqual({ method: 'POST', path: '/x', headers: {} });
  });

  it('refuses a call whose path argument is missing', () => {
    expect(() => buildRestRequest({ method: 'GET', path: '/orders/{id}' }, {})).toThrow(GatewayError);
  });

  describe('path arguments never change the path shape', () => {
    const templates = ['/{id}', '/items/{id}', '/items/{id}/details', '/items/{a}{b}/x', '/items/v{id}'];
    const escaping = ['', '.', '..'];
    for (const path of templates) {
      for (const value of escaping) {
        const args = path.includes('{a}') ? { a: value, b: '' } : { id: value };
        const fillsWholeSegment = !path.includes('v{id}');
        it(`${fillsWholeSegment ? 'refuses' : 'keeps'} ${JSON.stringify(value)} in ${path}`, () => {
          if (fillsWholeSegment) {
            expect(() => buildRestRequest({ method: 'GET', path }, args)).toThrow(/may not make it empty, "\." or "\.\."/);
          } else {
            // A value that is only part of a segment keeps it a segment: "v", "v.", "v.." are names.
            expect(buildRestRequest({ method: 'GET', path }, args).path).toBe(`/items/v${value}`);
          }
        });
      }
    }

    it('refuses two placeholders that together make ".." of one segment', () => {
      expect(() => buildRestRequest({ method: 'GET', path: '/items/{a}{b}/x' }, { a: '.', b: '.' })).toThrow(GatewayError);
    });

    it('encodes separators and percent signs, so no value adds a segment or a dot segment', () => {
      const r = buildRestRequest({ method: 'GET', path: '/items/{id}/details' }, { id: '../%2e%2e/x?y#z' });
      expect(r.path).toBe('/items/..%2F%252e%252e%2Fx%3Fy%23z/details');
      expect(joinUrl('http://h:1/api', r.path).pathname).toBe('/api/items/..%2F%252e%252e%2Fx%3Fy%23z/details');
    });

    it('keeps dots that are not a whole segment', () => {
      expect(buildRestRequest({ method: 'GET', path: '/files/{name}' }, { name: '...' }).path).toBe('/files/...');
      expect(buildRestRequest({ method: 'GET', path: '/files/{name}' }, { name: '.env' }).path).toBe('/files/.env');
    });
  });

  it('joins base URLs that carry a path prefix', () => {
    expect(joinUrl('http://h:1/api/', '/orders?x=1').href).toBe('http://h:1/api/orders?x=1');
    expect(joinUrl('http://h:1', '/orders').href).toBe('http://h:1/orders');
  });
});
