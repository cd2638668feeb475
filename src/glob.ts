/**
 * The project's one glob dialect, for every list a user writes patterns in: policy rules, audit
 * redaction keys, the Origin and Host allow-lists, virtual-server selections, OpenAPI operation
 * filters. Only `*` is special; everything else is literal. A path-glob library (picomatch,
 * minimatch) would read `/`, `?`, `[`, `{` and `**` specially and change what users' patterns
 * match, so the dialect stays this small and lives here once.
 */
export interface GlobOptions {
  /** What `*` may stand for, as a regular expression (default: anything, the empty string too). */
  readonly star?: string;
  readonly ignoreCase?: boolean;
}

function globSource(glob: string, star: string): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join(star);
}

/** Does a whole string match any of `globs`? With no globs nothing matches. Built once, tested per call. */
export function globMatcher(globs: readonly string[], o: GlobOptions = {}): (s: string) => boolean {
  if (globs.length === 0) return () => false;
  const re = new RegExp(`^(?:${globs.map((g) => globSource(g, o.star ?? '.*')).join('|')})$`, o.ignoreCase ? 'i' : '');
  return (s) => re.test(s);
}
