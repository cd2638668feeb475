import { compileArgumentCheck, type ArgumentCheck } from './validation.js';
import type { BackendDescriptor, CatalogTool, ToolDefinition } from './model.js';
import { describeCollision, exposedName, findCollisions, MAX_TOOL_NAME } from './naming.js';

/** A page of `tools/list`, pre-serialised once per snapshot. */
export interface ToolPage {
  /** UTF-8 JSON of the `result` object, `{"tools":[...],"nextCursor":...}`, encoded once per snapshot. */
  readonly resultJson: Buffer;
  readonly tools: readonly CatalogTool[];
  readonly nextCursor?: string;
}

export class InvalidCursorError extends Error {
  readonly code = 'GW_INVALID_CURSOR';
}

/**
 * Pages over a sorted list of tools. The cursor is the last name of the previous page, so paging
 * stays consistent when tools are added or removed in between. Pages are serialised once.
 */
export class ToolPager {
  private readonly pages = new Map<string, ToolPage>();

  constructor(
    readonly sorted: readonly CatalogTool[],
    readonly pageSize: number,
  ) {}

  page(cursor: string | undefined): ToolPage {
    const key = cursor ?? '';
    const cached = this.pages.get(key);
    if (cached) return cached;
    const start = cursor === undefined ? 0 : lowerBoundAfter(this.sorted, decodeCursor(cursor));
    const tools = this.sorted.slice(start, start + this.pageSize);
    const more = start + this.pageSize < this.sorted.length;
    const nextCursor = more ? encodeCursor(tools[tools.length - 1]!.name) : undefined;
    const result: Record<string, unknown> = { tools: tools.map((t) => t.definition) };
    if (nextCursor) result.nextCursor = nextCursor;
    const resultJson = Buffer.from(JSON.stringify(result));
    const page: ToolPage = nextCursor ? { resultJson, tools, nextCursor } : { resultJson, tools };
    if (this.pages.size < 10_000) this.pages.set(key, page);
    return page;
  }

  /** A pager over the subset of these tools that `keep` accepts (a caller's visible tools). */
  filter(keep: (t: CatalogTool) => boolean): ToolPager {
    const kept = this.sorted.filter(keep);
    // Everything visible: share this pager and its serialised pages.
    return kept.length === this.sorted.length ? this : new ToolPager(kept, this.pageSize);
  }
}

/**
 * An immutable view of the catalog. Hot paths read it without locks; changes build a new one.
 * Problems (collisions, unusable tools) are kept so operators can see them, never resolved silently.
 */
export class CatalogSnapshot {
  readonly sorted: readonly CatalogTool[];
  readonly pager: ToolPager;
  private readonly checks = new Map<string, ArgumentCheck | null>();

  constructor(
    readonly version: number,
    readonly tools: ReadonlyMap<string, CatalogTool>,
    readonly backends: ReadonlyMap<string, BackendDescriptor>,
    readonly problems: readonly string[],
    readonly pageSize: number,
  ) {
    this.sorted = [...tools.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    this.pager = new ToolPager(this.sorted, pageSize);
  }

  /** One page of the whole listing (see {@link ToolPager}). */
  page(cursor: string | undefined): ToolPage {
    return this.pager.page(cursor);
  }

  /** The argument check for a tool, compiled on first use; `null` when its schema could not be compiled. */
  argumentCheck(tool: CatalogTool): ArgumentCheck | null {
    let check = this.checks.get(tool.name);
    if (check === undefined) {
      try {
        check = compileArgumentCheck(tool.definition.inputSchema);
      } catch {
        check = null;
      }
      this.checks.set(tool.name, check);
    }
    return check;
  }
}

function encodeCursor(lastName: string): string {
  return Buffer.from(lastName, 'utf8').toString('base64url');
}

function decodeCursor(cursor: string): string {
  const name = Buffer.from(cursor, 'base64url').toString('utf8');
  if (name === '' || encodeCursor(name) !== cursor) throw new InvalidCursorError(`invalid cursor "${cursor}"`);
  return name;
}

function lowerBoundAfter(sorted: readonly CatalogTool[], name: string): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sorted[mid]!.name <= name) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inputs of a snapshot build. */
export interface BuildInput {
  readonly version: number;
  readonly backends: readonly BackendDescriptor[];
  /** Tools published by native MCP backends, by backend name (absent: not discovered yet). */
  readonly discovered: ReadonlyMap<string, readonly ToolDefinition[]>;
  readonly separator: string;
  readonly pageSize: number;
  /** Problems found before the build (a source's unusable entries), listed first. */
  readonly problems?: readonly string[];
}

/** Combine configured and discovered tools into a snapshot; colliding names are left out and reported. */
export function buildSnapshot(input: BuildInput): CatalogSnapshot {
  const problems: string[] = [...(input.problems ?? [])];
  const candidates: CatalogTool[] = [];
  const backends = new Map<string, BackendDescriptor>();
  for (const b of input.backends) {
    backends.set(b.name, b);
    if (b.kind === 'rest') {
      for (const t of b.tools) {
        const { http, timeoutMs, name, tags, ...rest } = t;
        const definition = { ...stripUndefined(rest), name: exposedName(b, name, input.separator) } as ToolDefinition;
        candidates.push({
          name: definition.name,
          upstreamName: name,
          backend: b.name,
          definition,
          route: timeoutMs === undefined ? { kind: 'rest', http } : { kind: 'rest', http, timeoutMs },
          tags,
        });
      }
    } else {
      for (const t of input.discovered.get(b.name) ?? []) {
        const definition: ToolDefinition = { ...t, name: exposedName(b, t.name, input.separator) };
        candidates.push({ name: definition.name, upstreamName: t.name, backend: b.name, definition, route: { kind: 'mcp' }, tags: metaTags(t) });
      }
    }
  }
  const collisions = findCollisions(candidates.map((t) => ({ name: t.name, owner: `backend "${t.backend}" (tool "${t.upstreamName}")` })));
  const clashing = new Set(collisions.map((c) => c.name));
  for (const c of collisions) problems.push(describeCollision(c));
  const tools = new Map<string, CatalogTool>();
  for (const t of candidates) {
    if (clashing.has(t.name)) continue;
    if (t.name.length > MAX_TOOL_NAME) {
      problems.push(`tool "${t.name}" of backend "${t.backend}" is longer than ${MAX_TOOL_NAME} characters and is left out`);
      continue;
    }
    tools.set(t.name, t);
  }
  return new CatalogSnapshot(input.version, tools, backends, problems, input.pageSize);
}

function metaTags(t: ToolDefinition): string[] {
  const tags = (t._meta as { tags?: unknown } | undefined)?.tags;
  return Array.isArray(tags) ? tags.filter((x): x is string => typeof x === 'string') : [];
}

function stripUndefined<T extends Record<string, unknown>>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
