import { describe, expect, it } from 'vitest';
import { accepts, isJsonContentType } from '../../src/admission/media.js';
import { originMatcher } from '../../src/admission/origin.js';

describe('Accept and Content-Type', () => {
  it('matches exact types, wildcards and q=0', () => {
    expect(accepts('application/json, text/event-stream', 'text/event-stream')).toBe(true);
    expect(accepts('application/*', 'application/json')).toBe(true);
    expect(accepts('*/*', 'text/event-stream')).toBe(true);
    expect(accepts('text/html', 'application/json')).toBe(false);
    expect(accepts('*/*, application/json;q=0', 'application/json')).toBe(false);
    expect(accepts(undefined, 'application/json')).toBe(true);
  });

  it('recognises JSON content types with parameters', () => {
    expect(isJsonContentType('application/json; charset=utf-8')).toBe(true);
    expect(isJsonContentType('application/vnd.api+json')).toBe(true);
    expect(isJsonContentType('text/plain')).toBe(false);
    expect(isJsonContentType(undefined)).toBe(false);
  });
});

describe('Origin allow-list', () => {
  it('allows listed origins and wildcard ports, and requests without Origin', () => {
    const ok = originMatcher(['http://localhost:*', 'https://app.example.com']);
    expect(ok('http://localhost:6274')).toBe(true);
    expect(ok('https://app.example.com')).toBe(true);
    expect(ok(undefined)).toBe(true);
    expect(ok('https://app.example.com.evil.net')).toBe(false);
    expect(ok('http://localhost.evil.net:80')).toBe(false);
  });
});
