/**
 * The tasks extension (`io.modelcontextprotocol/tasks`, SEP-2663) as stateless (2026-07-28) clients
 * see it, built from what session-era (2025-11-25) backends answer. The two differ in shape, not in
 * meaning: a created task is a flat result (`resultType: "task"`) instead of `{ task }`, durations
 * are named `ttlMs` / `pollIntervalMs`, `tasks/get` inlines the finished result or error (there is
 * no `tasks/result`), and a tool that reported an error is `completed` with `result.isError`, not
 * `failed`, which is kept for protocol errors. Pure: the broker does the requests.
 */
import { isObject, type JsonRpcFailure } from './jsonrpc.js';

/** How a tool takes tasks (`execution.taskSupport`): never (the default), when asked, or only as a task. */
export type TaskSupport = 'forbidden' | 'optional' | 'required';

/** `resultType` of a result that created a task. */
export const RESULT_TASK = 'task';

/** The statuses after which a task never changes. */
const TERMINAL: ReadonlySet<unknown> = new Set(['completed', 'failed', 'cancelled']);

const RELATED_TASK = 'io.modelcontextprotocol/related-task';

/** A tool's `execution.taskSupport`; anything unknown counts as `forbidden`, as the specification defaults. */
export function taskSupportOf(tool: Readonly<Record<string, unknown>>): TaskSupport {
  const execution = tool.execution;
  const support = isObject(execution) ? execution.taskSupport : undefined;
  return support === 'optional' || support === 'required' ? support : 'forbidden';
}

/** Whether a task status is final. */
export function isTerminal(status: unknown): boolean {
  return TERMINAL.has(status);
}

/**
 * A 2025-11-25 task (`Task`: `ttl`, `pollInterval`) in the extension's names (`ttlMs`,
 * `pollIntervalMs`). `ttlMs` is always present (null: unlimited), as the extension asks.
 */
export function extensionTask(task: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { ttl, pollInterval, _meta: _own, ...rest } = task;
  return {
    ...rest,
    ttlMs: typeof ttl === 'number' ? Math.round(ttl) : null,
    ...(typeof pollInterval === 'number' ? { pollIntervalMs: Math.max(1, Math.round(pollInterval)) } : {}),
  };
}

/**
 * A backend's `CreateTaskResult` (`{ task, _meta? }`) as the extension's flat one; undefined for
 * any other result.
 */
export function createTaskResult(result: Readonly<Record<string, unknown>>): Record<string, unknown> | undefined {
  if (!isObject(result.task) || typeof result.task.taskId !== 'string') return undefined;
  const { task, ...rest } = result;
  return { ...rest, ...extensionTask(task as Record<string, unknown>), resultType: RESULT_TASK };
}

/**
 * The extension's `tasks/get` answer (DetailedTask) from the backend's task and, once it is
 * final, what its `tasks/result` gave: a tool's result (inlined, also when the backend marked the
 * task `failed` because the tool reported an error) or a JSON-RPC error (`failed` with `error`).
 */
export function detailedTask(task: Readonly<Record<string, unknown>>, outcome?: { result: Record<string, unknown> } | { error: JsonRpcFailure['error'] }): Record<string, unknown> {
  const out = extensionTask(task);
  if (!outcome) return out;
  if ('error' in outcome) {
    const { code, message, data } = outcome.error;
    return { ...out, status: 'failed', error: { code, message, ...(data !== undefined ? { data } : {}) } };
  }
  return { ...out, status: 'completed', result: withoutRelatedTask(outcome.result) };
}

/** A result without the 2025-11-25 related-task `_meta` key: the task id is at the answer's root already. */
function withoutRelatedTask(result: Readonly<Record<string, unknown>>): Record<string, unknown> {
  if (!isObject(result._meta) || !(RELATED_TASK in result._meta)) return { ...result };
  const { [RELATED_TASK]: _related, ...meta } = result._meta;
  const { _meta: _old, ...rest } = result;
  return Object.keys(meta).length > 0 ? { ...rest, _meta: meta } : rest;
}
