import type { BackendDescriptor } from './model.js';

/** Longest tool name MCP clients are expected to accept (2025-11-25 tool naming guidance). */
export const MAX_TOOL_NAME = 128;

/** The name a backend's tool is exposed under: `<prefix><separator><tool>`, or the tool's own name for an empty prefix. */
export function exposedName(backend: BackendDescriptor, tool: string, separator: string): string {
  const prefix = backend.prefix ?? backend.name;
  return prefix === '' ? tool : `${prefix}${separator}${tool}`;
}

/** A name clash between tools of different (or the same) backends. */
export interface Collision {
  readonly name: string;
  readonly owners: readonly string[];
}

/** Group `name → owner` pairs and report every name claimed more than once. */
export function findCollisions(entries: Iterable<{ name: string; owner: string }>): Collision[] {
  const owners = new Map<string, string[]>();
  for (const { name, owner } of entries) {
    const list = owners.get(name);
    if (list) list.push(owner);
    else owners.set(name, [owner]);
  }
  const out: Collision[] = [];
  for (const [name, list] of owners) if (list.length > 1) out.push({ name, owners: list });
  return out;
}

export function describeCollision(c: Collision): string {
  return `tool name "${c.name}" is claimed by ${c.owners.join(' and ')}; give one backend a different prefix`;
}
