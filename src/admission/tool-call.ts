import { offeredTo } from '../catalog/conditional.js';
import { accepts } from './media.js';
import { isObject, success } from '../mcp/jsonrpc.js';
import { toolPart } from '../policy/input.js';
import { traceCarrier } from '../telemetry/trace.js';
import { authorize, hiddenFrom, refuse, type RequestContext } from './authorize.js';
import type { Decision } from './decision.js';
import type { Confirmation } from '../policy/engine.js';
import { cannotAsk } from '../confirm/outcome.js';
import { ERROR_META_KEY } from '../errors.js';

/**
 * Decide a `tools/call`, cheapest checks first: unknown tools, and tools the caller's listing
 * does not show, are protocol errors (-32602);
 * arguments that violate the input schema are tool errors (`isError`) so the model can correct
 * itself; a token without the backend's scopes gets 403 `insufficient_scope`; then the policy,
 * which may ask for the user's confirmation (carried on the decision; src/confirm/).
 * No backend is called before all of them pass.
 */
export async function toolCallDecision(c: RequestContext): Promise<Decision> {
  const { session, message, catalog, trail } = c;
  const params = message.params ?? {};
  const name = params.name;
  if (typeof name !== 'string') return refuse(c, 'GW_INVALID_PARAMS', '"name" must be a string');
  if (trail) {
    trail.kind = 'tool';
    trail.tool = name;
  }
  const args = params.arguments ?? {};
  if (!isObject(args)) return refuse(c, 'GW_INVALID_PARAMS', '"arguments" must be an object');
  if (trail) trail.arguments = args;
  const tool = catalog.tools.get(name);
  if (!tool) return refuse(c, 'GW_UNKNOWN_TOOL', `"${name}"`);
  // Its backend lists it only to clients with features this one did not declare (src/catalog/conditional.ts).
  if (!offeredTo(tool, session.clientCapabilities)) return refuse(c, 'GW_UNKNOWN_TOOL', `"${name}" is offered only to clients that declare ${tool.needs!.join(' and ')}`);
  if (trail) trail.backend = tool.backend;
  // Nothing is hidden unless listings are filtered: no await on every call for that.
  const hidden = c.canSee ? await hiddenFrom(c, 'tools', name, 'GW_UNKNOWN_TOOL') : null;
  if (hidden) return hidden;
  const problem = catalog.argumentCheck(tool)?.(args) ?? null;
  if (problem !== null) {
    if (trail) trail.denied = { code: 'GW_ARGUMENTS_INVALID', reason: problem };
    return {
      kind: 'respond',
      session,
      body: success(message.id, {
        content: [{ type: 'text', text: `Invalid arguments for tool "${name}": ${problem}. Fix the arguments and call the tool again.` }],
        isError: true,
        _meta: { [ERROR_META_KEY]: 'GW_ARGUMENTS_INVALID' },
      }),
    };
  }
  let confirm: Confirmation | undefined;
  const refused = await authorize(c, tool.backend, toolPart(tool, args), (asked) => (confirm = asked));
  if (refused) return refused;
  const decision: Extract<Decision, { kind: 'call-tool' }> = { kind: 'call-tool', session, message, tool, arguments: args, caller: c.caller, sourceIp: c.req.remoteAddress ?? null };
  if (confirm) {
    decision.confirm = confirm;
    // Known now for either era: a client that never declared elicitation cannot be asked.
    if (cannotAsk(session.clientCapabilities)) decision.confirmed = 'unavailable';
  }
  const trace = traceCarrier(c.req.headers);
  if (trace) decision.trace = trace;
  if (!accepts(c.req.headers.accept, 'text/event-stream')) decision.answerOnly = true;
  return decision;
}
