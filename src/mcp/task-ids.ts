import { isObject } from './jsonrpc.js';

/**
 * Task ids as clients see them (2025-11-25 tasks): the backend's own id under the backend's name,
 * `<backend>/<task id>`, so tasks of many backends never clash and each request about a task is
 * routed to the backend that runs it. Backend names never hold a "/".
 */
export function gatewayTaskId(backend: string, taskId: string): string {
  return `${backend}/${taskId}`;
}

/** The backend and its own id of a task id the client names; undefined when it is not one of the gateway's. */
export function parseTaskId(id: string): { backend: string; taskId: string } | undefined {
  const slash = id.indexOf('/');
  return slash > 0 ? { backend: id.slice(0, slash), taskId: id.slice(slash + 1) } : undefined;
}

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/**
 * A result or notification params with the backend's task ids exposed as the client's: a
 * created task (`task.taskId`), a task's status (`taskId`), and the related task in `_meta`.
 */
export function exposeTaskIds(backend: string, value: Record<string, unknown>): Record<string, unknown> {
  let out = value;
  const map = (id: unknown): unknown => (typeof id === 'string' ? gatewayTaskId(backend, id) : id);
  if (isObject(out.task) && typeof out.task.taskId === 'string') out = { ...out, task: { ...out.task, taskId: map(out.task.taskId) } };
  if (typeof out.taskId === 'string') out = { ...out, taskId: map(out.taskId) };
  const meta = out._meta;
  if (isObject(meta) && isObject(meta[RELATED_TASK])) {
    const related = meta[RELATED_TASK] as Record<string, unknown>;
    out = { ...out, _meta: { ...meta, [RELATED_TASK]: { ...related, taskId: map(related.taskId) } } };
  }
  return out;
}

/** The task a result created (`CreateTaskResult`), as the client sees it; undefined for an ordinary result. */
export function createdTask(result: Record<string, unknown>): string | undefined {
  return isObject(result.task) && typeof result.task.taskId === 'string' ? result.task.taskId : undefined;
}
