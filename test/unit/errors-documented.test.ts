import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/errors.js';

describe('error registry', () => {
  it('documents every gateway error code with its HTTP status and JSON-RPC code', async () => {
    const doc = await readFile(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    for (const [code, spec] of Object.entries(ERRORS)) {
      const row = doc.split('\n').find((l) => l.startsWith(`| \`${code}\``));
      expect(row, `docs/errors.md has no row for ${code}`).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      expect(cells[2], `${code} HTTP status`).toBe(String(spec.status));
      expect(cells[3], `${code} JSON-RPC code`).toBe(spec.surface === 'tool' ? '— (isError result)' : String(spec.rpcCode));
    }
  });
});
