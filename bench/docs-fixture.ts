/**
 * What the bench's `docs` backend publishes besides tools, and what a right answer holds. Shared by
 * the server (bench/echo-mcp.ts) and the checks (bench/targets.ts), which run in different
 * processes, so the load generator loads no SDK server code.
 */

/** The one listed resource: a ~1 KiB Markdown page, a typical document rather than an empty body. */
export const DOC = {
  uri: 'file:///bench/guide.md',
  name: 'guide',
  mimeType: 'text/markdown',
  text: `# bench-resource guide\n\n${'Each request reads this page whole, so the bench moves a realistic document body. '.repeat(12)}\n`,
} as const;

/** The one prompt, with one argument, and the message it renders for the bench's argument. */
export const PROMPT = {
  name: 'summarize',
  topic: 'bench-topic',
  render: (topic: string): string => `Summarise the ${topic} notes in three bullet points.`,
} as const;

/** Under which prefix the gateway publishes the docs backend (its name, the default prefix). */
export const DOCS_PREFIX = 'docs';
