import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load.js';
import { heldSessionId } from '../../src/session/held.js';
import { loadStateKeys } from '../../src/session/state-key.js';

const SECRET = 'a-secret-every-instance-shares-0123456789';
const alice = { issuer: 'https://idp', subject: 'alice' };

describe('stateless.stateKey', () => {
  it('derives the same keys from the same secret, from an env var or a file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'gw-key-'));
    try {
      await writeFile(join(dir, 'key'), `${SECRET}\n`);
      const a = await loadStateKeys({ env: 'KEY' }, { KEY: SECRET });
      const b = await loadStateKeys({ file: join(dir, 'key') });
      expect(a.shared).toBe(true);
      expect(a.seal.equals(b.seal)).toBe(true);
      expect(heldSessionId(a.name, alice, { sampling: {} })).toBe(heldSessionId(b.name, alice, { sampling: {} }));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('draws a random key per process when none is configured', async () => {
    const [a, b] = await Promise.all([loadStateKeys(undefined), loadStateKeys(undefined)]);
    expect(a.shared).toBe(false);
    expect(a.seal.equals(b.seal)).toBe(false);
  });

  it('stops the gateway with a clear error for a missing or short secret', async () => {
    await expect(loadStateKeys({ env: 'NOPE' }, {})).rejects.toThrow(new ConfigError('invalid configuration:\n  stateless.stateKey.env: environment variable NOPE is not set'));
    await expect(loadStateKeys({ env: 'KEY' }, { KEY: 'short' })).rejects.toThrow(/at least 32 are needed/);
    await expect(loadStateKeys({ file: '/no/such/file' })).rejects.toThrow(/stateless.stateKey.file: cannot read/);
  });
});

describe('gateway-held session ids', () => {
  it('name one record per caller and relayed capabilities, whatever their key order', async () => {
    const { name } = await loadStateKeys({ env: 'KEY' }, { KEY: SECRET });
    const id = heldSessionId(name, alice, { sampling: {}, elicitation: { form: {}, url: {} } });
    expect(heldSessionId(name, alice, { elicitation: { url: {}, form: {} }, sampling: {}, experimental: { x: {} } })).toBe(id);
    expect(heldSessionId(name, alice, { sampling: {} })).not.toBe(id);
    expect(heldSessionId(name, { ...alice, subject: 'bob' }, { sampling: {}, elicitation: { form: {}, url: {} } })).not.toBe(id);
  });

  it('ignore keys the relay never reads, so a caller cannot make a record per request', async () => {
    const { name } = await loadStateKeys({ env: 'KEY' }, { KEY: SECRET });
    const ids = new Set([1, 2, 3].map((i) => heldSessionId(name, alice, { sampling: { junk: i }, elicitation: { form: { junk: i }, other: i }, roots: { listChanged: i } })));
    expect([...ids]).toEqual([heldSessionId(name, alice, { sampling: {}, elicitation: { form: {} }, roots: {} })]);
    // What the relay does read still names another record.
    expect(heldSessionId(name, alice, { sampling: { tools: {} } })).not.toBe(heldSessionId(name, alice, { sampling: {} }));
    expect(heldSessionId(name, alice, { roots: { listChanged: true } })).not.toBe(heldSessionId(name, alice, { roots: {} }));
  });
});
