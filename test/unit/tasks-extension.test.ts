import { describe, expect, it } from 'vitest';
import { createTaskResult, detailedTask, extensionTask, taskSupportOf } from '../../src/mcp/tasks-extension.js';

const TASK = { taskId: 'b/1', status: 'working', createdAt: '2026-01-01T00:00:00Z', lastUpdatedAt: '2026-01-01T00:00:01Z', ttl: 60000, pollInterval: 250 };

describe('2025-11-25 tasks in the tasks extension shape', () => {
  it('renames the durations, always carrying ttlMs (null: unlimited)', () => {
    expect(extensionTask(TASK)).toEqual({ taskId: 'b/1', status: 'working', createdAt: TASK.createdAt, lastUpdatedAt: TASK.lastUpdatedAt, ttlMs: 60000, pollIntervalMs: 250 });
    expect(extensionTask({ ...TASK, ttl: null, pollInterval: undefined })).toMatchObject({ ttlMs: null });
    expect('pollIntervalMs' in extensionTask({ taskId: 'b/1', status: 'working', ttl: null })).toBe(false);
  });

  it('flattens a created task into a task result, and leaves other results alone', () => {
    expect(createTaskResult({ task: TASK, _meta: { a: 1 } })).toEqual({ ...extensionTask(TASK), _meta: { a: 1 }, resultType: 'task' });
    expect(createTaskResult({ content: [] })).toBeUndefined();
  });

  it('inlines a final result without the related-task key, and a protocol error as failed without result', () => {
    const result = { content: [{ type: 'text', text: 'x' }], _meta: { 'io.modelcontextprotocol/related-task': { taskId: 'b/1' }, keep: true } };
    expect(detailedTask({ ...TASK, status: 'failed' }, { result })).toMatchObject({ status: 'completed', result: { content: result.content, _meta: { keep: true } } });
    const failed = detailedTask({ ...TASK, status: 'completed' }, { error: { code: -32603, message: 'boom' } });
    expect(failed).toMatchObject({ status: 'failed', error: { code: -32603, message: 'boom' } });
    expect('result' in failed).toBe(false);
  });

  it('reads a tool task support, forbidden unless it says optional or required', () => {
    expect(taskSupportOf({ execution: { taskSupport: 'required' } })).toBe('required');
    expect(taskSupportOf({ execution: { taskSupport: 'sometimes' } })).toBe('forbidden');
    expect(taskSupportOf({})).toBe('forbidden');
  });
});
