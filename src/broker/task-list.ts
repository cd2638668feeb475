/**
 * `tasks/list` (2025-11-25) for session clients: the tasks the session's own calls created (the
 * ids its record keeps, `SessionRecord.tasks`), each as its backend reports it now, under the id
 * the client knows. Never another session's: the record is the session's own.
 *
 * Each task is read with its backend's `tasks/get`, sent where the client's own `tasks/get` would
 * go (the client's backend session, under audit), rather than listed with the backend's `tasks/list`:
 * - the spec asks that every task a requestor reaches with `tasks/get` is listed for it; the record
 *   is exactly what admission lets `tasks/get` reach (src/admission/routed.ts);
 * - a backend lists the tasks of its requestor, and the gateway's backend session is one only when
 *   the backend keeps sessions: one that runs without (no Mcp-Session-Id) lists every caller's
 *   tasks, and a backend session opened again after the backend forgot the old one lists none of
 *   the old one's; the listing would have to be matched against the record anyway;
 * - `tasks/list` is a capability of its own that backends need not have, and their cursors would
 *   have to be folded into the gateway's.
 * The work is bounded: a session keeps at most 256 tasks, a page reads at most {@link MAX_TASKS_PAGE}
 * of them, {@link PARALLEL_READS} at a time.
 *
 * A task its backend no longer knows (-32602: expired, deleted, the backend restarted) drops out,
 * and the session forgets it (`forget`): later listings do not read it again, and `tasks/get` on it
 * is refused by the gateway as for any task the session does not hold. A
 * backend that cannot be asked now (down, timing out, gone from the catalog) fails no listing: its
 * tasks are left out of the page and named in `_meta["io.github.mcp-gateway/unavailable-tasks"]`,
 * so the client knows which to ask for again. Pages follow the ids in sorted order and the cursor is
 * the last id of the page (opaque, as the catalog's listings), so a page boundary holds while tasks
 * are created or forgotten in between; a cursor the gateway did not make is -32602.
 */
import type { Decision } from '../admission/decision.js';
import { decodeCursor, encodeCursor, InvalidCursorError } from '../catalog/pager.js';
import { wireError } from '../errors.js';
import { isObject, success, type JsonRpcFailure, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import { parseTaskId } from '../mcp/task-ids.js';
import { json, responseOf, type Reply } from './reply.js';
import type { RunningCalls } from './running-calls.js';

type ListTasks = Extract<Decision, { kind: 'list-tasks' }>;
type Forward = Extract<Decision, { kind: 'forward' }>;

/** Most tasks one page reads: each costs a request to its backend. */
export const MAX_TASKS_PAGE = 50;

/** Most task reads of one listing in flight at once. */
const PARALLEL_READS = 8;

/** The `_meta` key of a page's tasks whose backend could not be asked. */
export const UNAVAILABLE_TASKS = 'io.github.mcp-gateway/unavailable-tasks';

export interface TaskListOptions {
  /**
   * Runs a routed request in the client's backend session, under audit (the broker's own
   * `forward`), as a part of the listing: stopped when `within` is, not registered on its own.
   */
  readonly forward: (d: Forward, within: AbortSignal) => Reply;
  /** The catalog listings' page size; a page of tasks is at most {@link MAX_TASKS_PAGE}. */
  readonly pageSize: () => number;
  /** Drop tasks their backend no longer knows from the session's record; never fails the listing. */
  readonly forget: (taskIds: readonly string[]) => Promise<void>;
  /** Where the listing is registered as the one call of its request id. */
  readonly calls: RunningCalls;
}

/**
 * A session client's `tasks/list`. Its reads run together under the listing's own request id: the
 * listing is the one call of that id on this process (the client's cancellation of it stops every
 * read and no read starts after it; a draining server waits for it), each read with a signal of its
 * own that the listing's aborts (a read that times out stops no other). A cancelled listing gets no
 * answer (204), as any request the client cancelled.
 */
export async function serveTaskList(d: ListTasks, opts: TaskListOptions): Promise<Reply> {
  const listing = new AbortController();
  const done = opts.calls.register(d.session.id, d.message.id, listing);
  try {
    const answer = await listTasks(d, opts, listing.signal);
    return answer ? json(answer) : { kind: 'empty', status: 204 };
  } finally {
    done();
  }
}

/** The answer to the listing; undefined once `signal` is aborted. */
async function listTasks(d: ListTasks, opts: TaskListOptions, signal: AbortSignal): Promise<JsonRpcResponse | undefined> {
  let page: { ids: readonly string[]; nextCursor?: string };
  try {
    page = pageOf(d.tasks, d.cursor, Math.min(opts.pageSize(), MAX_TASKS_PAGE));
  } catch (err) {
    if (err instanceof InvalidCursorError) return wireError('GW_INVALID_PARAMS', d.message.id, err.message);
    throw err;
  }
  const read = await inParallel(page.ids, PARALLEL_READS, signal, (id) => readTask(d, id, (get) => opts.forward(get, signal)));
  if (signal.aborted) return undefined;
  const tasks: Record<string, unknown>[] = [];
  const unavailable: string[] = [];
  const unknown: string[] = [];
  read.forEach((task, i) => {
    if (task === 'unavailable') unavailable.push(page.ids[i]!);
    else if (task === 'unknown') unknown.push(page.ids[i]!);
    else tasks.push(task);
  });
  if (unknown.length > 0) await opts.forget(unknown);
  return success(d.message.id, {
    tasks,
    ...(page.nextCursor ? { nextCursor: page.nextCursor } : {}),
    ...(unavailable.length > 0 ? { _meta: { [UNAVAILABLE_TASKS]: unavailable } } : {}),
  });
}

/** The ids of one page, in sorted order, after the id the cursor names. */
export function pageOf(ids: readonly string[], cursor: string | undefined, size: number): { ids: readonly string[]; nextCursor?: string } {
  const after = cursor === undefined ? undefined : decodeCursor(cursor);
  const sorted = [...ids].sort();
  const start = after === undefined ? 0 : sorted.findIndex((id) => id > after);
  const rest = start < 0 ? [] : sorted.slice(start);
  const out = rest.slice(0, size);
  return rest.length > size ? { ids: out, nextCursor: encodeCursor(out[out.length - 1]!) } : { ids: out };
}

/** One task as its backend's `tasks/get` reports it (its id already the client's), or why it is not listed. */
async function readTask(d: ListTasks, id: string, forward: (d: Forward) => Reply): Promise<Record<string, unknown> | 'unknown' | 'unavailable'> {
  const owned = parseTaskId(id);
  if (!owned) return 'unknown';
  const get: Forward = {
    kind: 'forward',
    session: d.session,
    // The client's request id: the audit attributes each read to its tasks/list.
    message: { jsonrpc: '2.0', id: d.message.id, method: 'tasks/get', params: { taskId: id } },
    target: { backend: owned.backend, kind: 'task', name: id, params: { taskId: owned.taskId }, arguments: {} },
    caller: d.caller,
    sourceIp: d.sourceIp,
    // Nothing the backend asks during a read can reach the client: the listing answers as one JSON body.
    answerOnly: true,
    ...(d.trace ? { trace: d.trace } : {}),
  };
  const response = await responseOf(forward(get));
  if (!response) return 'unavailable';
  if ('error' in response) return forgotten(response) ? 'unknown' : 'unavailable';
  // Listed tasks carry no related-task `_meta` (the spec: their ids say it).
  const { _meta: _, ...task } = response.result;
  return task;
}

/** The backend's own -32602 to `tasks/get` (the gateway's failures carry their code in `data`): it does not know the task. */
function forgotten(response: JsonRpcFailure): boolean {
  const { code, data } = response.error;
  return code === -32602 && !(isObject(data) && typeof data.code === 'string' && data.code.startsWith('GW_'));
}

/** `fn` over `items`, at most `limit` at once, results in the items' order; none starts once `signal` is aborted (their results stay unset). */
async function inParallel<T, R>(items: readonly T[], limit: number, signal: AbortSignal, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length && !signal.aborted) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
