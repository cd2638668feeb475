/**
 * Tool calls of stateless clients and the tasks extension (`io.modelcontextprotocol/tasks`): the
 * server, not the client, decides whether a call becomes a task. The gateway makes it one when
 * the tool's backend takes tasks (`execution.taskSupport`) and the client declared the extension:
 * the call goes upstream task-augmented (2025-11-25 `task` param) and the task it creates reaches
 * the client in the extension's shape (src/mcp/tasks-extension.ts).
 */
import { declaresExtension, requiredExtension } from '../mcp/client-capabilities.js';
import { TASKS_EXTENSION } from '../mcp/era.js';
import { taskSupportOf } from '../mcp/tasks-extension.js';
import type { ErrorCode } from '../errors.js';
import type { Decision } from './decision.js';

type CallTool = Extract<Decision, { kind: 'call-tool' }>;

/**
 * A stateless client's `tools/call` as it goes upstream: task-augmented when the tool takes tasks
 * and the client declared the extension; a tool that runs only as a task is refused (-32021) to a
 * client that did not, and to an anonymous one (which never gets a task). A `task` param the client sent itself (the 2025-11-25 hint) is tolerated
 * and dropped: it never makes a task of a call, as the extension asks.
 */
export function taskCall(d: CallTool, anonymous: boolean): { ok: true; decision: CallTool } | { ok: false; code: ErrorCode; detail: string; data?: Record<string, unknown> } {
  const { task: _hint, ...params } = d.message.params ?? {};
  const support = d.tool.route.kind === 'mcp' ? taskSupportOf(d.tool.definition) : 'forbidden';
  const declared = declaresExtension(d.session.clientCapabilities, TASKS_EXTENSION);
  // Anonymous stateless clients share one held record, and with it every task bound there (docs/protocol-eras.md).
  if (support === 'required' && anonymous) return { ok: false, code: 'GW_TASKS_ANONYMOUS', detail: `"${d.tool.name}" runs only as a task, and tasks need an authenticated caller` };
  if (support === 'required' && !declared) {
    return { ok: false, code: 'GW_CAPABILITY_REQUIRED', detail: `"${d.tool.name}" runs only as a task: declare the io.modelcontextprotocol/tasks extension`, data: requiredExtension(TASKS_EXTENSION) };
  }
  const asTask = support !== 'forbidden' && declared && !anonymous;
  return { ok: true, decision: { ...d, message: { ...d.message, params: asTask ? { ...params, task: {} } : params } } };
}
