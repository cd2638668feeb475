import { describe, expect, it } from 'vitest';
import { InvalidCursorError } from '../../src/catalog/pager.js';
import { pageOf } from '../../src/broker/task-list.js';

describe("the pages of a session's tasks", () => {
  const ids = ['b/2', 'a/1', 'a/3', 'c/1', 'b/1'];

  it('go through the ids in sorted order, each once, the last page without a cursor', () => {
    const first = pageOf(ids, undefined, 2);
    const second = pageOf(ids, first.nextCursor, 2);
    const third = pageOf(ids, second.nextCursor, 2);
    expect([first.ids, second.ids, third.ids]).toEqual([['a/1', 'a/3'], ['b/1', 'b/2'], ['c/1']]);
    expect(third.nextCursor).toBeUndefined();
  });

  it('keep their boundary when tasks are created or forgotten in between', () => {
    const first = pageOf(ids, undefined, 2);
    // a/3, the last id of the first page, is forgotten; a/2 is created before it.
    const next = pageOf(['a/2', 'b/2', 'a/1', 'c/1', 'b/1'], first.nextCursor, 2);
    expect(next.ids).toEqual(['b/1', 'b/2']);
  });

  it('refuse a cursor the gateway did not make', () => {
    expect(() => pageOf(ids, 'not a cursor', 2)).toThrow(InvalidCursorError);
    expect(() => pageOf(ids, '', 2)).toThrow(InvalidCursorError);
  });

  it('end empty after the last id', () => {
    expect(pageOf(ids, pageOf(ids, undefined, 4).nextCursor, 4)).toEqual({ ids: ['c/1'] });
    expect(pageOf([], undefined, 4)).toEqual({ ids: [] });
  });
});
