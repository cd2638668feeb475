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

  it('joins base URLs that carry a path prefix', () => {
    expect(joinUrl('http://h:1/api/', '/orders?x=1').href).toBe('http://h:1/api/orders?x=1');
    expect(joinUrl('http://h:1', '/orders').href).toBe('http://h:1/orders');
  });
});
