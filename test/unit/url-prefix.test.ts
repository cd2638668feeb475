import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { isUnderPrefix, parseUrlPrefix } from '../../src/url-prefix.js';

const prefix = (text: string): URL => {
  const p = parseUrlPrefix(text);
  if (typeof p === 'string') throw new Error(p);
  return p;
};
const under = (url: string, p: string): boolean => isUnderPrefix(new URL(url), prefix(p));
const SPECS = 'https://specs.example.com/apis/';

describe('URL prefixes (catalog.consul.openapiUrls)', () => {
  it('lets through URLs under the prefix, compared as URLs: case of scheme and host, default port', () => {
    for (const url of ['https://specs.example.com/apis/orders.json', 'https://SPECS.example.com:443/apis/team/orders.yaml', 'HTTPS://specs.example.com/apis/x.json?version=2', 'https://specs.example.com/apis/']) {
      expect(under(url, SPECS), url).toBe(true);
    }
    // `/apis/../apis/x` is `/apis/x` once parsed, which is what is fetched.
    expect(under('https://specs.example.com/apis/../apis/x.json', SPECS)).toBe(true);
  });

  it('refuses look-alike hosts, user info, other ports and schemes, and paths that leave the prefix', () => {
    for (const url of [
      'https://specs.example.com.evil.net/apis/x.json',
      'https://specs.example.com@evil.net/apis/x.json',
      'https://user:pw@specs.example.com/apis/x.json',
      'https://evil.net/specs.example.com/apis/x.json',
      'https://evil.net/?https://specs.example.com/apis/',
      'https://specs.example.com./apis/x.json',
      'https://specs.example.com:8443/apis/x.json',
      'http://specs.example.com/apis/x.json',
      'https://specs.example.com/apis',
      'https://specs.example.com/apis-private/x.json',
      'https://specs.example.com/APIS/x.json',
      'https://specs.example.com/apis/../secret.json',
      'https://specs.example.com/apis/%2e%2e/secret.json',
      'https://specs.example.com/apis/.%2E/secret.json',
      'https://specs.example.com/apis\\..\\secret.json',
      'https://specs.example.com/apis/..%2fsecret.json',
      'https://specs.example.com/apis/..%5Csecret.json',
      'https://specs.example.com/apis/%252e%252e/secret.json',
      'https://specs.example.com/apis/..;/secret.json',
      'https://specs.example.com/apis/..%3b/secret.json',
      'https://specs.example.com/apis/..%3B/secret.json',
      'https://169.254.169.254/latest/meta-data/',
    ]) {
      expect(under(url, SPECS), url).toBe(false);
    }
  });

  it('matches a prefix without a trailing slash on a segment boundary, and a bare host as the whole host', () => {
    expect(under('https://specs.example.com/apis', 'https://specs.example.com/apis')).toBe(true);
    expect(under('https://specs.example.com/apis/x.json', 'https://specs.example.com/apis')).toBe(true);
    expect(under('https://specs.example.com/apis-private/x.json', 'https://specs.example.com/apis')).toBe(false);
    expect(under('https://specs.example.com/anything.json', 'https://specs.example.com')).toBe(true);
    expect(under('http://10.0.0.5:8080/a.json', 'http://10.0.0.5:8080/')).toBe(true);
    // IPv4 in other notations is the same address once parsed; another port is not.
    expect(under('http://0x0a.0.0.5:8080/a.json', 'http://10.0.0.5:8080/')).toBe(true);
    expect(under('http://10.0.0.5:8081/a.json', 'http://10.0.0.5:8080/')).toBe(false);
    expect(under('http://[::1]:8080/a.json', 'http://[0:0:0:0:0:0:0:1]:8080/')).toBe(true);
  });

  it('validates the configured prefixes at load, naming the bad entry, and keeps them normalised', () => {
    const load = (openapiUrls: unknown) => parseConfig({ catalog: { consul: { openapiUrls } } }).catalog.consul!.openapiUrls;
    expect(load(['HTTPS://Specs.Example.com:443/apis/', 'http://10.0.0.5:8080'])).toEqual(['https://specs.example.com/apis/', 'http://10.0.0.5:8080/']);
    expect(parseConfig({ catalog: { consul: {} } }).catalog.consul!.openapiUrls).toEqual([]);
    const error = (entry: string): string => {
      try {
        load([SPECS, entry]);
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error(`${entry} was accepted`);
    };
    expect(error('not a url')).toContain('catalog.consul.openapiUrls[1]: must be an http(s) URL');
    expect(error('ftp://specs.example.com/apis/')).toContain('catalog.consul.openapiUrls[1]: must be an http(s) URL');
    expect(error('file:///etc/')).toContain('must be an http(s) URL');
    const withPassword = error('https://reader:hunter2@specs.example.com/apis/');
    expect(withPassword).toContain('catalog.consul.openapiUrls[1]: must not contain a user name or password');
    expect(withPassword).not.toContain('hunter2');
    expect(error('https://specs.example.com/apis/?v=1')).toContain('catalog.consul.openapiUrls[1]: must not have a query (?) or fragment (#)');
    expect(error('https://specs.example.com/apis/#top')).toContain('must not have a query (?) or fragment (#)');
    expect(error('https://specs.example.com/apis/?')).toContain('must not have a query (?) or fragment (#)');
    expect(error('https://specs.example.com/apis/../')).toContain('catalog.consul.openapiUrls[1]: must not contain "." or ".." path segments');
    expect(error('https://specs.example.com/apis/%2E%2e/')).toContain('must not contain "." or ".." path segments');
    expect(error('https://specs.example.com/apis%2fteam/')).toContain('must not contain percent-encoded');
    expect(() => load('https://specs.example.com/apis/')).toThrow(ConfigError);
  });
});
