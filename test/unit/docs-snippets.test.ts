import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.js';
import { codeBlocks, type CodeBlock } from '../support/docs.js';

/*
 * The snippets of README.md and docs/ are what users copy. Every YAML block is checked against the
 * gateway's configuration schema, unless it is listed below as another program's file; every shell
 * block must parse (`bash -n`), its curl commands may use only options curl has, and every variable
 * it reads must be set in the block (or be one the text asks the user to export).
 */

/** YAML blocks that are not a gateway configuration, and what they are instead. */
const NOT_GATEWAY_CONFIG: Record<string, string> = {
  'docs/dashboards-and-alerts.md#yaml1': 'Prometheus configuration',
  'docs/opa-bundle.md#yaml2': "OPA's configuration",
  'docs/opa-bundle.md#yaml3': "OPA's configuration",
  'docs/rate-limits.md#yaml1': 'an Envoy local_ratelimit descriptor',
};

/** Blocks that are a part of a configuration, with what they sit under (indentation included). */
const FRAGMENTS: Record<string, string> = {
  'docs/configuration.md#yaml1': 'backends:\n  - name: orders\n    kind: rest\n    urls: [http://127.0.0.1:8000]\n',
};

/** The Helm values of docs/kubernetes.md: the chart renders `config` as the gateway's configuration file. */
const HELM_VALUES = new Set(['docs/kubernetes.md#yaml1']);

/**
 * The environment a user who copies a snippet has: variables a snippet needs without a default are
 * set (a long placeholder, so length checks on secrets pass); those with a default stay unset, as
 * the snippet says they may be.
 */
function envFor(text: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const m of text.matchAll(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)) env[m[1]!] = 'placeholder-secret-value-0123456789';
  for (const m of text.matchAll(/\{\s*env:\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}/g)) env[m[1]!] = 'placeholder-secret-value-0123456789';
  return env;
}

const yamlBlocks = codeBlocks(['yaml']);

describe('YAML snippets of the docs', () => {
  it('finds them, and every exception named above still exists', () => {
    expect(yamlBlocks.length).toBeGreaterThan(20);
    const names = new Set(yamlBlocks.map((b) => b.name));
    for (const name of [...Object.keys(NOT_GATEWAY_CONFIG), ...Object.keys(FRAGMENTS), ...HELM_VALUES]) expect(names, name).toContain(name);
  });

  it.each(yamlBlocks.map((b) => [b.name, b] as const))('%s is valid', (_name, block: CodeBlock) => {
    const text = (FRAGMENTS[block.name] ?? '') + block.text;
    const raw: unknown = parseYaml(text);
    if (NOT_GATEWAY_CONFIG[block.name]) return;
    const config = HELM_VALUES.has(block.name) ? (raw as { config: unknown }).config : raw;
    // Throws with one line per bad key, which names the snippet's mistake.
    expect(() => parseConfig(config, envFor(text))).not.toThrow();
  });
});

const shellBlocks = codeBlocks(['sh', 'bash', 'shell']);

/** curl's own options, long and short, from the curl on this machine. */
function curlOptions(): Set<string> {
  const help = execFileSync('curl', ['--help', 'all'], { encoding: 'utf8' });
  const out = new Set<string>();
  for (const m of help.matchAll(/^\s*(?:(-[A-Za-z0-9#:]),\s*)?(--[a-z0-9-.]+)/gm)) {
    if (m[1]) out.add(m[1]);
    out.add(m[2]!);
  }
  return out;
}

/** The words of a shell command line, quotes removed (enough for the options of a curl command). */
function words(line: string): string[] {
  const out: string[] = [];
  for (const m of line.matchAll(/'[^']*'|"(?:\\.|[^"\\])*"|[^\s'"]+/g)) out.push(m[0]);
  return out;
}

/** The curl command lines of a shell block: continuations joined, from `curl` to the end of the command. */
function curlCommands(text: string): string[] {
  const joined = text.replace(/\\\n/g, ' ');
  const out: string[] = [];
  for (const line of joined.split('\n')) {
    for (const m of line.matchAll(/(?:^|[\s($|;&])curl\s/g)) {
      const rest = line.slice(m.index! + m[0].length);
      // The command ends at a pipe, a command separator or the close of a substitution, outside quotes.
      const cmd = words(rest);
      const end = cmd.findIndex((w) => /^(\||;|&&|\)|#)/.test(w));
      out.push((end === -1 ? cmd : cmd.slice(0, end)).join(' '));
    }
  }
  return out;
}

/** Variables a user is told to export before running a page's commands. */
const USER_SET = new Set(['HOME', 'PATH', 'TOKEN', 'MCP_GATEWAY_CACHE']);

describe('shell snippets of the docs', () => {
  const options = curlOptions();

  it('finds them', () => {
    expect(shellBlocks.length).toBeGreaterThan(10);
    expect(options).toContain('--data');
  });

  it.each(shellBlocks.map((b) => [b.name, b] as const))('%s parses and uses real curl options', (_name, block: CodeBlock) => {
    const check = spawnSync('bash', ['-n'], { input: block.text, encoding: 'utf8' });
    expect(check.stderr, 'bash -n').toBe('');
    expect(check.status).toBe(0);
    for (const cmd of curlCommands(block.text)) {
      for (const w of words(cmd)) {
        if (!w.startsWith('-') || w === '-') continue;
        const flag = w.startsWith('--') ? w.split('=')[0]! : w.slice(0, 2);
        expect(options, `curl option ${flag} in: curl ${cmd}`).toContain(flag);
      }
    }
    // A page's commands run in order in one shell: what an earlier block of the page sets is set.
    const earlier = shellBlocks.slice(0, shellBlocks.indexOf(block) + 1).filter((b) => b.page === block.page);
    const assigned = new Set(earlier.flatMap((b) => [...b.text.matchAll(/(?:^|[\s;(])(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]!)));
    // Comment lines, heredoc bodies quoted with 'EOF', and single-quoted words are data: the shell expands nothing in them.
    const code = block.text.replace(/^\s*#.*$/gm, '').replace(/<<-?\s*'(\w+)'\n[\s\S]*?\n\1(\n|$)/g, '\n').replace(/'[^']*'/g, "''");
    for (const m of code.matchAll(/\$\{?([A-Za-z_][A-Za-z0-9_]*)/g)) {
      const name = m[1]!;
      expect(assigned.has(name) || USER_SET.has(name), `$${name} is read but never set in ${block.name}`).toBe(true);
    }
  });
});
