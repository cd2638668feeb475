import type { BackendDescriptor } from './model.js';

/** Longest tool name MCP clients are expected to accept (2025-11-25 tool naming guidance). */
export const MAX_TOOL_NAME = 128;

/** A backend's namespace for names and URIs: its `prefix`, by default its name; "" for none. */
export function prefixOf(backend: BackendDescriptor): string {
  return backend.prefix ?? backend.name;
}

/** The name a backend's tool (or prompt) is exposed under: `<prefix><separator><name>`, or its own name for an empty prefix. */
export function exposedName(backend: BackendDescriptor, tool: string, separator: string): string {
  const prefix = prefixOf(backend);
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

/** A collision as a catalog problem; `what` names the kind of name ("tool name", "resource URI", …). */
export function describeCollision(c: Collision, what = 'tool name'): string {
  return `${what} "${c.name}" is claimed by ${c.owners.join(' and ')}; give one backend a different prefix`;
}
