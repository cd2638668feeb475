import type { ListKind } from '../mcp/methods.js';

/** A page of an aggregated listing, pre-serialised once per snapshot. */
export interface Page<T> {
  /** UTF-8 JSON of the `result` object, e.g. `{"tools":[...],"nextCursor":...}`, encoded once per snapshot. */
  readonly resultJson: Buffer;
  readonly items: readonly T[];
  readonly nextCursor?: string;
}

export class InvalidCursorError extends Error {
  readonly code = 'GW_INVALID_CURSOR';
}

/** How a pager reads its entries: the sort key (name or URI) and what clients see. */
export interface Listing<T> {
  readonly list: ListKind;
  readonly keyOf: (item: T) => string;
  readonly definitionOf: (item: T) => unknown;
}

/**
 * Pages over entries sorted by key (tool or prompt name, resource URI, URI template). The cursor
 * is the last key of the previous page, so paging stays consistent when entries are added or
 * removed in between. Pages are serialised once.
 */
export class Pager<T> {
  private readonly pages = new Map<string, Page<T>>();

  constructor(
    readonly listing: Listing<T>,
    readonly sorted: readonly T[],
    readonly pageSize: number,
  ) {}

  /** A pager over `items`, sorted by key. */
  static of<T>(listing: Listing<T>, items: Iterable<T>, pageSize: number): Pager<T> {
    const keyed = [...items].map((item) => ({ key: listing.keyOf(item), item }));
    keyed.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
    return new Pager(listing, keyed.map((k) => k.item), pageSize);
  }

  page(cursor: string | undefined): Page<T> {
    const key = cursor ?? '';
    const cached = this.pages.get(key);
    if (cached) return cached;
    const { keyOf, definitionOf, list } = this.listing;
    const start = cursor === undefined ? 0 : this.lowerBoundAfter(decodeCursor(cursor));
    const items = this.sorted.slice(start, start + this.pageSize);
    const more = start + this.pageSize < this.sorted.length;
    const nextCursor = more ? encodeCursor(keyOf(items[items.length - 1]!)) : undefined;
    const result: Record<string, unknown> = { [list]: items.map(definitionOf) };
    if (nextCursor) result.nextCursor = nextCursor;
    const resultJson = Buffer.from(JSON.stringify(result));
    const page: Page<T> = nextCursor ? { resultJson, items, nextCursor } : { resultJson, items };
    if (this.pages.size < 10_000) this.pages.set(key, page);
    return page;
  }

  /** A pager over the subset of these entries that `keep` accepts (a caller's visible entries). */
  filter(keep: (item: T) => boolean): Pager<T> {
    const kept = this.sorted.filter(keep);
    // Everything visible: share this pager and its serialised pages.
    return kept.length === this.sorted.length ? this : new Pager(this.listing, kept, this.pageSize);
  }

  private lowerBoundAfter(key: string): number {
    const { keyOf } = this.listing;
    let lo = 0;
    let hi = this.sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (keyOf(this.sorted[mid]!) <= key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/** The opaque cursor that resumes a listing after `lastKey` (other paged listings share it). */
export function encodeCursor(lastKey: string): string {
  return Buffer.from(lastKey, 'utf8').toString('base64url');
}

/** The key a cursor resumes after; {@link InvalidCursorError} for one the gateway did not make. */
export function decodeCursor(cursor: string): string {
  const key = Buffer.from(cursor, 'base64url').toString('utf8');
  if (key === '' || encodeCursor(key) !== cursor) throw new InvalidCursorError(`invalid cursor "${cursor}"`);
  return key;
}
