import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.js';
import { bundleRoots, PolicyBundle } from '../../src/policy/bundle.js';
import { declaresOwnPackage, packagePath, type OpaConfig } from '../../src/policy/modules.js';
import { OpaApi } from '../../src/policy/opa-api.js';
import { BundleDelivery } from '../../src/policy/opa-bundle.js';
import { Agent } from 'undici';
import { pino } from 'pino';

const FILES = [
  { name: 'mcp-gateway-base.rego', content: 'package mcp.gateway\n' },
  { name: 'mcp-gateway-kv-orders.rego', content: 'package mcp.services.orders\n' },
];
const ROOTS = ['mcp/gateway', 'mcp/services'];

/** The names and contents of a gzipped tar, read by its headers (name at 0, octal size at 124). */
function entries(gz: Buffer): Map<string, string> {
  const tar = gunzipSync(gz);
  const out = new Map<string, string>();
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    const name = header.subarray(0, 100).toString('utf8').replace(/\0.*$/s, '');
    const size = parseInt(header.subarray(124, 136).toString('ascii'), 8);
    out.set(name, tar.subarray(at + 512, at + 512 + size).toString('utf8'));
    at += 512 + Math.ceil(size / 512) * 512;
  }
  return out;
}

/** The bundle's bytes as served. */
function served(bundle: PolicyBundle): Buffer {
  let body: Buffer = Buffer.alloc(0);
  const res = { writeHead: () => res, end: (b?: Buffer) => (body = b ?? body) };
  bundle.serve({ headers: {} } as never, res as never);
  return body;
}

describe('the OPA bundle', () => {
  it('holds a manifest with the revision and roots, and the modules', () => {
    const bundle = new PolicyBundle({ path: '/b' });
    const revision = bundle.update(FILES, ROOTS);
    const files = entries(served(bundle));
    expect(JSON.parse(files.get('.manifest')!)).toEqual({ revision, roots: ROOTS, metadata: { source: 'mcp-gateway' } });
    expect(files.get('mcp-gateway-kv-orders.rego')).toBe('package mcp.services.orders\n');
  });

  it('has the same revision and bytes for the same policies, wherever it is built, and a new revision when one changes', () => {
    const a = new PolicyBundle({ path: '/b' });
    const b = new PolicyBundle({ path: '/b' });
    const ra = a.update(FILES, ROOTS);
    expect(b.update([...FILES].reverse(), ROOTS)).toBe(ra);
    expect(served(a).equals(served(b))).toBe(true);
    expect(a.update([FILES[0]!, { ...FILES[1]!, content: 'package mcp.services.orders\ndeny contains "x" if true\n' }], ROOTS)).not.toBe(ra);
  });

  it('declares the fewest roots that cover every package', () => {
    expect(bundleRoots(['mcp/services', 'mcp/gateway', 'mcp/services', 'mcp/policy/helpers', 'mcp/policy', 'mcp/policyx'])).toEqual(['mcp/gateway', 'mcp/policy', 'mcp/policyx', 'mcp/services']);
    expect(packagePath('# a comment\npackage mcp.policy # global\nimport rego.v1\n')).toBe('mcp/policy');
    expect(packagePath('package mcp.services["order-service"]\n')).toBe('mcp/services');
    expect(packagePath('allow := true\n')).toBeUndefined();
  });

  it("takes a service's snippet in its own package only, a name with a hyphen in Rego's bracket form included", () => {
    expect(declaresOwnPackage('package mcp.services.orders\n', 'orders')).toBe(true);
    expect(declaresOwnPackage('package mcp.services["order-service"]\n', 'order-service')).toBe(true);
    expect(declaresOwnPackage('package mcp.services["order-service"]\n', 'billing')).toBe(false);
    expect(declaresOwnPackage('package mcp.services.billing\n', 'orders')).toBe(false);
    expect(declaresOwnPackage('package mcp.policy\n', 'orders')).toBe(false);
  });
});

describe('bundle delivery', () => {
  it('bundles a snippet of a service whose name is too long for a tar entry, under a digest of its id', async () => {
    const service = `orders-${'x'.repeat(100)}`;
    const cfg = parseConfig({ policy: { engine: 'opa', url: 'http://127.0.0.1:1', delivery: 'bundle' } }).policy as OpaConfig;
    const agent = new Agent();
    // OPA cannot be reached: the snippet goes in unchecked (leaving it out would widen access).
    const delivery = new BundleDelivery(cfg, new OpaApi(cfg.url, agent), pino({ level: 'silent' }));
    const snippet = `package mcp.services["${service}"]\ndeny contains "no" if true\n`;
    await delivery.syncServiceSnippets(new Map([[service, snippet]]));
    await agent.close();
    const files = entries(served(delivery.bundle));
    expect([...files.values()]).toContain(snippet);
    expect(JSON.parse(files.get('.manifest')!).roots).toEqual(['mcp/gateway', 'mcp/services']);
    for (const name of files.keys()) expect(Buffer.byteLength(name)).toBeLessThanOrEqual(100);
  });
});

describe('configuration of tracing and bundles', () => {
  const message = (raw: Record<string, unknown>): string => {
    try {
      parseConfig(raw);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as Error).message;
    }
    return '';
  };

  it('names the bad tracing keys', () => {
    const m = message({ tracing: { samplingRatio: 2, otlp: { endpoint: 'grpc://collector:4317', protocol: 'grpc' } } });
    expect(m).toContain('tracing.samplingRatio');
    expect(m).toContain('tracing.otlp.endpoint: must be an http(s) URL');
    expect(m).toContain('tracing.otlp.protocol');
  });

  it('refuses a bundle path that another endpoint serves, and a short token', () => {
    const opa = { engine: 'opa', url: 'http://127.0.0.1:8181', delivery: 'bundle' };
    expect(message({ policy: { ...opa, bundle: { path: '/metrics' } } })).toContain('policy.bundle.path: must differ from server.path, metrics.path');
    expect(message({ policy: { ...opa, bundle: { token: 'short' } } })).toContain('policy.bundle.token: must be at least 16 characters');
    expect(parseConfig({ policy: opa }).policy).toMatchObject({ delivery: 'bundle', bundle: { path: '/policy/bundle.tar.gz', name: 'mcp-gateway' } });
  });
});
