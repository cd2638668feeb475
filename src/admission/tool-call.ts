import type { CatalogSnapshot } from '../catalog/snapshot.js';
import { wireError } from '../errors.js';
import { success, type JsonRpcRequest } from '../mcp/jsonrpc.js';
import type { SessionRecord } from '../session/store.js';
import type { Decision } from './decision.js';

/**
 * Decide a `tools/call`: unknown tools are protocol errors (-32602); arguments that violate the
 * input schema are tool errors (`isError`) so the model can correct itself; no backend is called.
 */
export function toolCallDecision(session: SessionRecord, message: JsonRpcRequest, catalog: CatalogSnapshot): Decision {
  const params = message.params ?? {};
  const name = params.name;
  if (typeof name !== 'string') return { kind: 'respond', session, body: wireError('GW_INVALID_PARAMS', message.id, '"name" must be a string') };
  const args = params.arguments ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    return { kind: 'respond', session, body: wireError('GW_INVALID_PARAMS', message.id, '"arguments" must be an object') };
  }
  const tool = catalog.tools.get(name);
  if (!tool) return { kind: 'respond', session, body: wireError('GW_UNKNOWN_TOOL', message.id, `"${name}"`) };
  const problem = catalog.argumentCheck(tool)?.(args) ?? null;
  if (problem !== null) {
    return {
      kind: 'respond',
      session,
      body: success(message.id, {
        content: [{ type: 'text', text: `Invalid arguments for tool "${name}": ${problem}. Fix the arguments and call the tool again.` }],
        isError: true,
      }),
    };
  }
  return { kind: 'call-tool', session, message, tool, arguments: args as Record<string, unknown> };
}
