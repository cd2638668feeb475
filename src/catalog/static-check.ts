import { ConfigError } from '../config/load.js';
import type { BackendDescriptor } from './model.js';
import { buildSnapshot } from './snapshot.js';

/**
 * Refuse a configuration whose own tools clash: duplicate backend names or REST tool names that
 * collide after prefixing. (Tools discovered later from native backends are checked per snapshot.)
 */
export function assertNoStaticCollisions(backends: readonly BackendDescriptor[], separator: string): void {
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const b of backends) {
    if (seen.has(b.name)) problems.push(`backend name "${b.name}" is used more than once`);
    seen.add(b.name);
  }
  problems.push(...buildSnapshot({ version: 0, backends, discovered: new Map(), separator, pageSize: 1 }).problems);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.map((p) => `  backends: ${p}`).join('\n')}`);
}
