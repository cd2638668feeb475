import type { GatewayConfig } from '../config/schema.js';
import { globMatcher } from '../glob.js';

/** What replaces a redacted value in audit events. */
export const REDACTED = '[REDACTED]';

/** Deeper structures are cut off (arguments come from JSON, so there are no cycles; this bounds the work). */
const MAX_DEPTH = 16;
/** Arrays and objects longer than this keep their first entries and a note of how many were left out. */
const MAX_ENTRIES = 100;

/** Turns call arguments into what the audit log may hold. */
export type Redactor = (args: Readonly<Record<string, unknown>>) => unknown;

/**
 * Build the redactor the `audit.redact` configuration describes: values under keys matching a
 * glob (at any depth, case-insensitively) and string values matching a pattern become
 * {@link REDACTED}; long strings are cut. With `includeArguments: false` only the top-level key
 * names are kept.
 */
export function createRedactor(cfg: GatewayConfig['audit']['redact']): Redactor {
  if (!cfg.includeArguments) return (args) => ({ keys: Object.keys(args) });
  const key = globMatcher(cfg.keys, { ignoreCase: true });
  const value = cfg.values.length ? new RegExp(cfg.values.map((v) => `(?:${v})`).join('|')) : undefined;
  const max = cfg.maxStringLength;

  const walk = (v: unknown, depth: number): unknown => {
    if (typeof v === 'string') {
      if (value?.test(v)) return REDACTED;
      return v.length > max ? `${v.slice(0, max)}…(${v.length} chars)` : v;
    }
    if (v === null || typeof v !== 'object') return v;
    if (depth >= MAX_DEPTH) return '[…]';
    if (Array.isArray(v)) {
      const out = v.slice(0, MAX_ENTRIES).map((x) => walk(x, depth + 1));
      if (v.length > MAX_ENTRIES) out.push(`…(${v.length - MAX_ENTRIES} more)`);
      return out;
    }
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const [k, x] of Object.entries(v)) {
      if (n++ === MAX_ENTRIES) {
        out['…'] = `${Object.keys(v).length - MAX_ENTRIES} more keys`;
        break;
      }
      out[k] = key(k) ? REDACTED : walk(x, depth + 1);
    }
    return out;
  };
  return (args) => walk(args, 0);
}
