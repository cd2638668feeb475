import { readFileSync, readdirSync } from 'node:fs';

const ROOT = new URL('../../', import.meta.url);

/** The user-facing documents: README.md and every page of docs/, as paths from the repository root. */
export function docPages(): string[] {
  const pages = readdirSync(new URL('docs/', ROOT)).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
  return ['README.md', ...pages.sort()];
}

export function readDoc(page: string): string {
  return readFileSync(new URL(page, ROOT), 'utf8');
}

/** A fenced code block of a document, named `<page>#<n>` by its language (n counts from 1 per language and page). */
export interface CodeBlock {
  readonly name: string;
  readonly page: string;
  readonly lang: string;
  readonly text: string;
}

/** The fenced blocks of the documents whose language is one of `langs` (the first word of the info string). */
export function codeBlocks(langs: readonly string[]): CodeBlock[] {
  const out: CodeBlock[] = [];
  for (const page of docPages()) {
    const counts = new Map<string, number>();
    let open: { lang: string; lines: string[] } | null = null;
    for (const line of readDoc(page).split('\n')) {
      const fence = /^```(\S*)/.exec(line);
      if (!open && fence) open = { lang: fence[1]!, lines: [] };
      else if (open && line.startsWith('```')) {
        if (langs.includes(open.lang)) {
          const n = (counts.get(open.lang) ?? 0) + 1;
          counts.set(open.lang, n);
          out.push({ name: `${page}#${open.lang}${n}`, page, lang: open.lang, text: open.lines.join('\n') });
        }
        open = null;
      } else open?.lines.push(line);
    }
  }
  return out;
}

/** One row of the table in docs/errors.md, as documented. */
export interface DocumentedError {
  readonly code: string;
  readonly status: string;
  readonly rpcCode: string;
}

/** The error table of docs/errors.md, by gateway code. */
export function documentedErrors(): Map<string, DocumentedError> {
  const rows = new Map<string, DocumentedError>();
  for (const line of readDoc('docs/errors.md').split('\n')) {
    const m = /^\| `(GW_[A-Z_]+)` \|([^|]*)\|([^|]*)\|/.exec(line);
    if (m) rows.set(m[1]!, { code: m[1]!, status: m[2]!.trim(), rpcCode: m[3]!.trim() });
  }
  return rows;
}

/** The JSON-RPC code column's text for errors that reach the client as tool results. */
export const TOOL_RESULT_CELL = '— (isError result)';
