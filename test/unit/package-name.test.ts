import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

describe('the commands the docs give run this project', () => {
  it('is a scoped, private package: the bare name mcp-gateway belongs to someone else on npm', () => {
    const pkg = JSON.parse(read('package.json')) as { name: string; private?: boolean; scripts: Record<string, string> };
    expect(pkg.name).toMatch(/^@[a-z0-9-]+\/[a-z0-9-]+$/);
    expect(pkg.private).toBe(true);
    expect(pkg.scripts.gateway).toBe('node dist/src/cli.js');
  });

  it('never tells anyone to npx the CLI (that downloads the unrelated package)', () => {
    const docs = ['README.md', ...readdirSync(new URL('../../docs', import.meta.url)).map((f) => `docs/${f}`)];
    for (const file of docs) expect(read(file), file).not.toMatch(/npx\s+mcp-gateway\b/);
  });
});
