import { describe, expect, it } from 'vitest';
import { globMatcher } from '../../src/glob.js';

describe('globMatcher', () => {
  it('treats only * as special and matches whole strings', () => {
    const m = globMatcher(['github.*', 'a.b?[c]{d}']);
    expect(m('github.create_issue')).toBe(true);
    expect(m('github.')).toBe(true);
    expect(m('xgithub.create')).toBe(false);
    expect(m('githubXcreate')).toBe(false);
    expect(m('a.b?[c]{d}')).toBe(true);
    expect(m('a.bx[c]{d}')).toBe(false);
  });

  it('matches nothing without globs, not even the empty string', () => {
    expect(globMatcher([])('')).toBe(false);
    expect(globMatcher([])('anything')).toBe(false);
  });

  it('lets * stand for what the caller allows, case-insensitively when asked', () => {
    const origins = globMatcher(['https://*.example.com'], { star: '[^/]*', ignoreCase: true });
    expect(origins('HTTPS://App.Example.com')).toBe(true);
    expect(origins('https://evil.net/.example.com')).toBe(false);
    const hosts = globMatcher(['*.svc'], { star: '.+' });
    expect(hosts('.svc')).toBe(false);
    expect(hosts('a.svc')).toBe(true);
    expect(globMatcher(['Token'])('token')).toBe(false);
  });
});
