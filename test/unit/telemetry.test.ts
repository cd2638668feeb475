import { ROOT_CONTEXT, defaultTextMapGetter, defaultTextMapSetter, trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { sessionRef } from '../../src/telemetry/audit.js';
import { createRedactor, REDACTED } from '../../src/telemetry/redact.js';
import { traceCarrier, w3cTraceContext } from '../../src/telemetry/trace.js';

const redactWith = (redact: Record<string, unknown> = {}) => createRedactor(parseConfig({ audit: { redact } }).audit.redact);

describe('audit redaction', () => {
  it('redacts secret-looking keys at any depth and bearer/JWT values by default', () => {
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhIn0.sig';
    const out = redactWith()({
      city: 'Paris',
      password: 'x',
      nested: { apiKey: 'k', api_key: 'k', 'X-Api-Key': 'k', list: [{ clientSecret: 's' }, { refresh_token: 't' }] },
      Authorization: 'Basic abc',
      header: 'Bearer abc',
      note: jwt,
      privateKeyPem: '-----BEGIN',
      count: 3,
    });
    expect(out).toEqual({
      city: 'Paris',
      password: REDACTED,
      nested: { apiKey: REDACTED, api_key: REDACTED, 'X-Api-Key': REDACTED, list: [{ clientSecret: REDACTED }, { refresh_token: REDACTED }] },
      Authorization: REDACTED,
      header: REDACTED,
      note: REDACTED,
      privateKeyPem: REDACTED,
      count: 3,
    });
  });

  it('follows configured keys and value patterns, cuts long strings, or keeps only key names', () => {
    expect(redactWith({ keys: ['ssn', 'card.*'], values: ['^\\d{16}$'] })({ ssn: '1', card: { number: '2' }, password: 'kept', pan: '4111111111111111' })).toEqual({
      ssn: REDACTED,
      card: { number: '2' },
      password: 'kept',
      pan: REDACTED,
    });
    expect(redactWith({ maxStringLength: 16 })({ text: 'a'.repeat(40) })).toEqual({ text: `${'a'.repeat(16)}…(40 chars)` });
    expect(redactWith({ includeArguments: false })({ to: 'x@y', body: 'hi' })).toEqual({ keys: ['to', 'body'] });
  });

  it('names sessions by a digest, never by the id', () => {
    const ref = sessionRef('abc');
    expect(ref).toBe('ba7816bf8f01cfea414140de5dae2223');
    expect(ref).not.toContain('abc');
  });
});

describe('audit configuration', () => {
  it('needs a file for the file sink and valid value patterns', () => {
    expect(() => parseConfig({ audit: { sink: 'file' } })).toThrow(/audit\.file: needs "file" when sink is "file"/);
    expect(() => parseConfig({ audit: { redact: { values: ['('] } } })).toThrow(/audit\.redact\.values\[0\]: must be a valid regular expression/);
    expect(parseConfig({}).audit.sink).toBe('stdout');
    expect(() => parseConfig({ metrics: { path: '/mcp' } })).toThrow(/metrics\.path: must differ from server\.path/);
  });
});

describe('W3C trace context without an SDK', () => {
  const extract = (headers: Record<string, string>) => trace.getSpanContext(w3cTraceContext.extract(ROOT_CONTEXT, headers, defaultTextMapGetter));

  it('round-trips traceparent and tracestate', () => {
    const headers = { traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01', tracestate: 'a=1,b=2' };
    const ctx = w3cTraceContext.extract(ROOT_CONTEXT, headers, defaultTextMapGetter);
    const out: Record<string, string> = {};
    w3cTraceContext.inject(ctx, out, defaultTextMapSetter);
    expect(out).toEqual(headers);
  });

  it('ignores invalid traceparents', () => {
    for (const traceparent of [
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01',
      'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      '00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01',
      '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra',
      'garbage',
    ]) {
      expect(extract({ traceparent }), traceparent).toBeUndefined();
    }
    expect(extract({ traceparent: '01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-future' })?.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
  });

  it('picks only the trace headers of a request', () => {
    expect(traceCarrier({ traceparent: 'x', accept: 'y' })).toEqual({ traceparent: 'x' });
    expect(traceCarrier({ accept: 'y' })).toBeUndefined();
  });
});
