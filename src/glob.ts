/**
 * The regular-expression source of a `*` glob: every other character literal, `*` as `star`
 * (anything by default). Shared by the allow-lists (origins, hosts), policy rules and redaction.
 */
export function globSource(glob: string, star = '.*'): string {
  return glob
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join(star);
}
