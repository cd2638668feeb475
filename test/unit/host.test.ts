import { describe, expect, it } from 'vitest';
import { effectiveAllowedHosts, hostMatcher, isLoopbackAddress } from '../../src/admission/host.js';

describe('Host allow-list', () => {
  it('defaults to loopback names on a loopback address and to any host elsewhere', () => {
    expect(effectiveAllowedHosts(undefined, '127.0.0.1')).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(effectiveAllowedHosts(undefined, '::1')).toEqual(['localhost', '127.0.0.1', '[::1]']);
    expect(effectiveAllowedHosts(undefined, '0.0.0.0')).toEqual(['*']);
    expect(effectiveAllowedHosts(['a.example'], '127.0.0.1')).toEqual(['a.example']);
    expect(isLoopbackAddress('127.8.9.10')).toBe(true);
    expect(isLoopbackAddress('10.0.0.1')).toBe(false);
  });

  it('matches names without their port, case-insensitively, with * for one or more labels', () => {
    const ok = hostMatcher(['mcp.example.com', '*.svc.local', '[::1]']);
    expect(ok('MCP.example.com:8443')).toEqual({ ok: true });
    expect(ok('a.b.svc.local')).toEqual({ ok: true });
    expect(ok('[::1]:80')).toEqual({ ok: true });
    expect(ok('svc.local')).toEqual({ ok: false, malformed: false });
    expect(ok('mcp.example.com.evil.net')).toEqual({ ok: false, malformed: false });
    expect(ok('evilmcp.example.com')).toEqual({ ok: false, malformed: false });
  });

  it('refuses a missing or malformed Host even when any host is allowed', () => {
    const any = hostMatcher(['*']);
    expect(any('anything.example:1')).toEqual({ ok: true });
    for (const bad of [undefined, '', 'bad host', '[', 'a/b', 'a:b:c', 'h:123456', 'user@h']) expect(any(bad), String(bad)).toEqual({ ok: false, malformed: true });
  });
});
