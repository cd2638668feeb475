import { describe, expect, it } from 'vitest';
import { CombinedSource } from '../../src/catalog/combined.js';
import { kvToolsByService, mapService, type HealthEntry } from '../../src/catalog/consul/mapping.js';
import type { BackendDescriptor } from '../../src/catalog/model.js';
import { StaticSource } from '../../src/catalog/source.js';
import { parseConfig } from '../../src/config/load.js';
import { assertSecretsResolvable } from '../../src/upstream/secret-ref.js';

const entry = (id: string, port: number, meta: Record<string, string>, address = ''): HealthEntry => ({
  Node: { Address: '10.0.0.9' },
  Service: { ID: id, Address: address, Port: port, Meta: { 'mcp-enabled': 'true', ...meta } },
});
const tools = (value: unknown) => ({ key: 'mcp/tools/svc', text: typeof value === 'string' ? value : JSON.stringify(value) });
const TOOL = { name: 'get', http: { path: '/x' } };
const PREFIXES = { kvPrefix: 'mcp/tools/', openapiPrefix: 'mcp/openapi/', openapiUrls: [] };
const EXCHANGE = { type: 'oauth2-token-exchange', tokenUrl: 'https://idp.example/token', clientId: 'gw', clientSecret: { env: 'SVC_SECRET' }, audience: 'svc' };

describe('Consul service → backend', () => {
  it('builds instance URLs from the service (or node) address, port and mcp-path', () => {
    const m = mapService('svc', [entry('b', 2, { 'mcp-kind': 'mcp' }), entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-path': 'rpc', 'mcp-prefix': '' }, '10.0.0.1')], undefined, PREFIXES);
    expect(m.backend).toMatchObject({ name: 'svc', kind: 'mcp', prefix: '', urls: ['http://10.0.0.1:1/rpc', 'http://10.0.0.9:2/mcp'] });
    const rest = mapService('svc', [entry('a', 8080, { 'mcp-kind': 'rest', 'mcp-scheme': 'https' }, '::1')], tools([TOOL]), PREFIXES);
    expect(rest.backend?.urls).toEqual(['https://[::1]:8080']);
    expect(rest.problem).toBeUndefined();
  });

  it('maps no healthy instance to nothing, and bad input to a problem naming the service and key', () => {
    expect(mapService('svc', [], tools([TOOL]), PREFIXES)).toEqual({});
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'grpc' })], undefined, PREFIXES).problem).toBe('consul service "svc" is left out: service meta mcp-kind must be "rest" or "mcp", got "grpc"');
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest' })], undefined, PREFIXES).problem).toContain('no tool definitions at KV key "mcp/tools/svc"');
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest' })], tools('[{'), PREFIXES).problem).toMatch(/^consul service "svc" is left out: KV key "mcp\/tools\/svc" is not valid JSON/);
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest' })], tools([{ name: 'get', http: { method: 'FETCH', path: '/' } }]), PREFIXES).problem).toContain('[0].http.method');
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-prefix': 'bad prefix' })], tools([TOOL]), PREFIXES).problem).toContain('prefix');
  });

  it('describes a REST service by its mcp-openapi document: a URL on its own instances or a KV key under the prefix, with or without KV tools', () => {
    const url = mapService('svc', [entry('a', 8443, { 'mcp-kind': 'rest', 'mcp-openapi': 'https://SVC.internal:8443/openapi.json' }, 'svc.internal')], undefined, PREFIXES);
    expect(url.problem).toBeUndefined();
    expect(url.backend).toMatchObject({ kind: 'rest', tools: [], openapi: { url: 'https://SVC.internal:8443/openapi.json' } });
    // The node's address counts when the service has none; IPv6 and default ports compare as URLs write them.
    expect(mapService('svc', [entry('a', 80, { 'mcp-kind': 'rest', 'mcp-openapi': 'http://10.0.0.9/doc.yaml' })], undefined, PREFIXES).problem).toBeUndefined();
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-openapi': 'http://[::1]:1/doc' }, '::1')], undefined, PREFIXES).problem).toBeUndefined();
    const key = mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-openapi': 'mcp/openapi/svc' })], tools([TOOL]), PREFIXES);
    expect(key.backend).toMatchObject({ tools: [{ name: 'get' }], openapi: { consulKey: 'mcp/openapi/svc', include: { tags: [] } } });
    const custom = mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-openapi': 'team/docs/svc' })], undefined, { ...PREFIXES, openapiPrefix: 'team/docs/' });
    expect(custom.backend).toMatchObject({ openapi: { consulKey: 'team/docs/svc' } });
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-openapi': '/openapi.json' })], undefined, PREFIXES).problem).toContain('or a KV key under "mcp/openapi/"');
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest' })], undefined, PREFIXES).problem).toContain('and no mcp-openapi document');
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-openapi': 'mcp/openapi/svc' })], undefined, PREFIXES).problem).toContain('the mcp-openapi document is ignored');
  });

  it('refuses an mcp-openapi a registration could use to make the gateway read elsewhere: other hosts, other KV keys', () => {
    const problem = (document: string) => mapService('svc', [entry('a', 8080, { 'mcp-kind': 'rest', 'mcp-openapi': document }, '10.0.0.1')], tools([TOOL]), PREFIXES);
    // Cloud metadata, another host, another port of the service's own host: each leaves the service out, naming the service.
    for (const url of ['http://169.254.169.254/latest/meta-data/', 'https://docs.example.com/svc.json', 'http://10.0.0.1:8500/v1/kv/vault', 'http://10.0.0.9:8080/doc', 'http://10.0.0.1:8080@169.254.169.254/']) {
      const m = problem(url);
      expect(m.backend, url).toBeUndefined();
      expect(m.problem, url).toMatch(/^consul service "svc" is left out: service meta mcp-openapi must be a URL on one of the service's own instances \(10\.0\.0\.1:8080\), got host /);
    }
    // KV keys outside the prefix, and ones Consul's HTTP API would clean into another folder.
    for (const key of ['vault/db-creds', 'mcp/tools/other', 'mcp/openapi/', 'mcp/openapi/../../vault/db-creds', 'mcp/openapi/./x', 'mcp/openapi//x', 'mcp/openapi/x?recurse', 'mcp/openapix']) {
      const m = problem(key);
      expect(m.backend, key).toBeUndefined();
      expect(m.problem, key).toContain('must be an http(s) URL on the service\'s own instances or a KV key under "mcp/openapi/" (catalog.consul.openapiPrefix)');
    }
  });

  it('takes an mcp-openapi URL under an operator-allowed prefix on another host, and nothing else beside the service’s own', () => {
    const allowed = { ...PREFIXES, openapiUrls: ['https://specs.example.com/apis/', 'http://10.0.0.5:8080/'] };
    const map = (document: string) => mapService('svc', [entry('a', 8080, { 'mcp-kind': 'rest', 'mcp-openapi': document }, '10.0.0.1')], undefined, allowed);
    // Kept as parsed, which is what was matched and what is fetched.
    expect(map('https://SPECS.example.com:443/apis/svc.json').backend).toMatchObject({ urls: ['http://10.0.0.1:8080'], openapi: { url: 'https://specs.example.com/apis/svc.json' } });
    expect(map('http://10.0.0.5:8080/svc.yaml').problem).toBeUndefined();
    // The service's own instances and KV keys under the prefix still count.
    expect(map('http://10.0.0.1:8080/openapi.json').backend).toMatchObject({ openapi: { url: 'http://10.0.0.1:8080/openapi.json' } });
    expect(map('mcp/openapi/svc').backend).toMatchObject({ openapi: { consulKey: 'mcp/openapi/svc' } });
    const own = "consul service \"svc\" is left out: service meta mcp-openapi must be a URL on one of the service's own instances (10.0.0.1:8080) or under catalog.consul.openapiUrls, got ";
    expect(map('http://169.254.169.254/latest/meta-data/').problem).toBe(`${own}http://169.254.169.254/latest/meta-data/`);
    expect(map('https://specs.example.com.evil.net/apis/svc.json').problem).toBe(`${own}https://specs.example.com.evil.net/apis/svc.json`);
    expect(map('https://specs.example.com/apis/../internal/svc.json').problem).toBe(`${own}https://specs.example.com/internal/svc.json`);
    expect(map('https://specs.example.com:8443/apis/svc.json').problem).toBe(`${own}https://specs.example.com:8443/apis/svc.json`);
    // Hidden from the message, and named as the reason.
    expect(map('https://reader:hunter2@specs.example.com/apis/svc.json').problem).toBe(`${own}https://specs.example.com/apis/svc.json (it has a user name or password)`);
    expect(map('https://specs.example.com/apis/..%2finternal/svc.json').problem).toBe(`${own}https://specs.example.com/apis/..%2finternal/svc.json (it has a percent-encoded ".", "/", "\\" or "%" in its path)`);
    expect(map('vault/db-creds').problem).toContain('must be an http(s) URL on the service\'s own instances or under catalog.consul.openapiUrls or a KV key under "mcp/openapi/"');
  });

  it('pins an MCP backend era with mcp-era, probes it by default, and leaves out a service with an unknown era', () => {
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-era': 'stateless' })], undefined, PREFIXES).backend).toMatchObject({ era: 'stateless' });
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp' })], undefined, PREFIXES).backend).toMatchObject({ era: 'auto' });
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-era': 'modern' })], undefined, PREFIXES).problem).toMatch(/^consul service "svc" is left out: era/);
  });

  it('caps the calls open at once with mcp-max-concurrent, none by default, and leaves out a service whose value is not a whole number of at least 1', () => {
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-max-concurrent': '8' })], undefined, PREFIXES).backend).toMatchObject({ maxConcurrentCalls: 8 });
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'rest', 'mcp-max-concurrent': '50' })], tools([TOOL]), PREFIXES).backend).toMatchObject({ maxConcurrentCalls: 50 });
    expect(mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp' })], undefined, PREFIXES).backend!.maxConcurrentCalls).toBeUndefined();
    for (const bad of ['0', '-1', '8.5', '1e3', ' 8', 'eight', '']) {
      const m = mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp', 'mcp-max-concurrent': bad })], undefined, PREFIXES);
      expect(m.backend).toBeUndefined();
      expect(m.problem).toBe(`consul service "svc" is left out: service meta mcp-max-concurrent must be a whole number of calls, at least 1, got "${bad}"`);
    }
  });

  it('takes credentials and pinning from the operator’s settings for the service name, never from the service’s meta', () => {
    const settings = parseConfig({
      auth: { issuer: 'https://idp.example', audience: 'gw' },
      catalog: { consul: { services: { svc: { credentials: EXCHANGE, pinning: { mode: 'manual', onDrift: 'hide' } } } } },
    }).catalog.consul!.services.svc;
    const m = mapService('svc', [entry('a', 1, { 'mcp-kind': 'mcp' })], undefined, PREFIXES, settings);
    expect(m.backend).toMatchObject({ credentials: { ...EXCHANGE, withoutCaller: 'client-credentials' }, pinning: { mode: 'manual', onDrift: 'hide' } });
    // A service cannot pick credentials or loosen pinning through meta: unknown meta keys change nothing.
    const meta = { 'mcp-kind': 'mcp', 'mcp-credentials': 'svc', 'mcp-pinning': 'off' };
    expect(mapService('other', [entry('a', 1, meta)], undefined, PREFIXES).backend).toMatchObject({ credentials: { type: 'none' } });
    expect(mapService('other', [entry('a', 1, meta)], undefined, PREFIXES).backend?.pinning).toBeUndefined();
  });

  it('refuses token exchange for a Consul service without auth, and names its key', () => {
    expect(() => parseConfig({ catalog: { consul: { services: { svc: { credentials: EXCHANGE } } } } })).toThrow(/catalog\.consul\.services\.svc\.credentials\.type: token exchange needs "auth"/);
    expect(() => parseConfig({ catalog: { consul: { services: { svc: { credentials: { ...EXCHANGE, clientSecret: 'inline' } } } } } })).toThrow(/catalog\.consul\.services\.svc\.credentials\.clientSecret: must be \{env: NAME\} or \{file: PATH\}/);
    expect(() => parseConfig({ catalog: { consul: { services: { svc: { pinning: { mode: 'manual' } } } } } })).toThrow(/manual approval needs "auth"/);
    const cfg = parseConfig({ auth: { issuer: 'https://idp.example', audience: 'gw' }, catalog: { consul: { services: { svc: { credentials: EXCHANGE } } } } });
    expect(() => assertSecretsResolvable(cfg, {})).toThrow(/catalog\.consul\.services\.svc\.credentials\.clientSecret: environment variable SVC_SECRET is not set/);
    expect(() => assertSecretsResolvable(cfg, { SVC_SECRET: 'x' })).not.toThrow();
  });

  it('reads service keys directly under the KV prefix only', () => {
    const m = kvToolsByService([{ Key: 'mcp/tools/', Value: null }, { Key: 'mcp/tools/a', Value: '[1]' }, { Key: 'mcp/tools/a/x', Value: '[2]' }], 'mcp/tools/');
    expect([...m]).toEqual([['a', { key: 'mcp/tools/a', text: '[1]' }]]);
  });
});

describe('combined sources', () => {
  it('keeps the first backend of a name and reports the later one', async () => {
    const b = (name: string, url: string): BackendDescriptor => ({ name, kind: 'mcp', urls: [url], headers: {} }) as BackendDescriptor;
    const pushes: Array<[string[], readonly string[] | undefined]> = [];
    const source = new CombinedSource([
      { label: 'configuration', source: new StaticSource([b('x', 'http://a/mcp')]) },
      { label: 'consul', source: new StaticSource([b('x', 'http://b/mcp'), b('y', 'http://c/mcp')]) },
    ]);
    await source.start((backends, problems) => void pushes.push([backends.map((d) => d.urls[0]!), problems]));
    expect(pushes.at(-1)).toEqual([['http://a/mcp', 'http://c/mcp'], ['backend "x" from consul is left out: the name is already used by a backend from configuration']]);
    expect(source.status()).toEqual({ stale: false });
  });
});
