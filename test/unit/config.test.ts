import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfigFile, parseConfig } from '../../src/config/load.js';
import { createGateway } from '../../src/gateway.js';
import { pino } from 'pino';

const rest = (name: string, tools: string[], extra: Record<string, unknown> = {}) => ({
  name,
  kind: 'rest',
  urls: ['http://127.0.0.1:1'],
  tools: tools.map((t) => ({ name: t, http: { path: '/' } })),
  ...extra,
});

describe('configuration', () => {
  it('fills defaults and freezes the result', () => {
    const c = parseConfig({});
    expect(c.server).toMatchObject({ host: '127.0.0.1', port: 8080, path: '/mcp', maxBodyBytes: 1_048_576 });
    expect(c.sessions.ttlSeconds).toBe(1800);
    expect(Object.isFrozen(c.server)).toBe(true);
  });

  it('names every bad key in the error', () => {
    const bad = { server: { port: 'eighty', prot: 1 }, backends: [{ name: 'x', kind: 'rest', urls: ['ftp://nope'], tools: [] }] };
    let message = '';
    try {
      parseConfig(bad);
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      message = (err as Error).message;
    }
    expect(message).toContain('server.port');
    expect(message).toMatch(/server: Unrecognized key.*"prot"/);
    expect(message).toContain('backends[0].urls[0]: must be an http(s) URL');
    expect(message).toContain('backends[0].tools: needs at least one');
  });

  it('takes the stateless section with defaults, and the state key only by reference', () => {
    expect(parseConfig({}).stateless).toEqual({ cacheTtlMs: 60_000, requestStateTtlMs: 300_000, inputSettleMs: 50, anonymousTasks: false });
    expect(parseConfig({ stateless: { stateKey: { file: '/run/secrets/k' } } }).stateless.stateKey).toEqual({ file: '/run/secrets/k' });
    expect(() => parseConfig({ stateless: { stateKey: 'the-secret-itself' } })).toThrow(/stateless\.stateKey/);
    expect(() => parseConfig({ stateless: { cacheTtlMs: -1 } })).toThrow(/stateless\.cacheTtlMs/);
  });

  it('takes a backend\'s maxConcurrentCalls as a whole number of at least 1, absent by default, naming the key otherwise', () => {
    expect(parseConfig({ backends: [rest('a', ['t'], { maxConcurrentCalls: 2 })] }).backends[0]!.maxConcurrentCalls).toBe(2);
    expect(parseConfig({ backends: [{ name: 'm', kind: 'mcp', urls: ['http://a'], maxConcurrentCalls: 8 }] }).backends[0]!.maxConcurrentCalls).toBe(8);
    expect(parseConfig({ backends: [rest('a', ['t'])] }).backends[0]!.maxConcurrentCalls).toBeUndefined();
    expect(() => parseConfig({ backends: [rest('a', ['t'], { maxConcurrentCalls: 0 })] })).toThrow(/backends\[0\]\.maxConcurrentCalls: must be at least 1/);
    expect(() => parseConfig({ backends: [rest('a', ['t'], { maxConcurrentCalls: 2.5 })] })).toThrow(/backends\[0\]\.maxConcurrentCalls: must be a whole number/);
    expect(() => parseConfig({ backends: [rest('a', ['t'], { maxConcurrentCalls: 'two' })] })).toThrow(/backends\[0\]\.maxConcurrentCalls/);
  });

  it('rejects an unknown backend kind', () => {
    expect(() => parseConfig({ backends: [{ name: 'x', kind: 'soap', urls: ['http://a'] }] })).toThrow(/backends\[0\]\.kind/);
  });

  it('interpolates environment variables, typing whole references', () => {
    const c = parseConfig({ server: { port: '${PORT}', host: '${HOST:-0.0.0.0}' }, backends: [rest('a', ['t'], { headers: { authorization: 'Bearer ${TOKEN}' } })] }, { PORT: '9999', TOKEN: 's3cret' });
    expect(c.server.port).toBe(9999);
    expect(c.server.host).toBe('0.0.0.0');
    expect(c.backends[0]!.headers.authorization).toBe('Bearer s3cret');
    expect(() => parseConfig({ server: { host: '${MISSING_VAR}' } }, {})).toThrow(/server\.host: environment variable MISSING_VAR is not set/);
  });

  it('loads YAML files and reports the file on errors', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-config-'));
    const good = join(dir, 'good.yaml');
    await writeFile(good, 'server:\n  port: 9000\nbackends: []\n');
    expect((await loadConfigFile(good)).server.port).toBe(9000);
    const bad = join(dir, 'bad.yaml');
    await writeFile(bad, 'server:\n  port: [\n');
    await expect(loadConfigFile(bad)).rejects.toThrow(/bad\.yaml is not valid YAML/);
    await expect(loadConfigFile(join(dir, 'missing.yaml'))).rejects.toThrow(/cannot read configuration file/);
  });

  it('refuses colliding tool names and duplicate backends at start', async () => {
    const logger = pino({ level: 'silent' });
    const clash = parseConfig({ backends: [rest('a', ['x_y']), rest('b', ['y'], { prefix: 'a_x' })] });
    await expect(createGateway(clash, { logger })).rejects.toThrow(/tool name "a_x_y" is claimed by backend "a" \(tool "x_y"\) and backend "b" \(tool "y"\)/);
    const dup = parseConfig({ backends: [rest('a', ['x']), rest('a', ['y'])] });
    await expect(createGateway(dup, { logger })).rejects.toThrow(/backend name "a" is used more than once/);
  });
});
