import type { z } from 'zod';
import type { confirmRuleSchema } from '../config/confirm-schema.js';
import { isDeepStrictEqual } from 'node:util';
import { confirmDecision, type PolicyDecision } from './engine.js';
import type { PolicyItem } from './input.js';

type ConfirmRule = z.infer<typeof confirmRuleSchema>;

/**
 * A tool's `destructiveHint` as MCP defines it: meaningful only for a tool that is not read-only,
 * and true when absent — so a tool that says nothing about itself counts as destructive.
 */
function destructive(annotations: Readonly<Record<string, unknown>>): boolean {
  return annotations.readOnlyHint !== true && annotations.destructiveHint !== false;
}

/**
 * The built-in rules' `confirm` action for a call the rule allows: "allowed once the user
 * confirms" when every condition holds (the tool's destructiveness, any one argument condition),
 * else undefined (allowed outright). Only tool calls are confirmed: a rule's `confirm` says
 * nothing about resources, prompts or relays.
 */
export function confirmation(rule: ConfirmRule | undefined, item: PolicyItem): PolicyDecision | undefined {
  if (rule === undefined || item.request.kind !== 'tool' || !item.tool) return undefined;
  if (rule === true) return confirmDecision(null);
  if (rule.destructive !== undefined && destructive(item.tool.annotations) !== rule.destructive) return undefined;
  if (rule.arguments && !rule.arguments.some((c) => holds(c, item.request.arguments[c.name]))) return undefined;
  return confirmDecision(rule.message ?? null);
}

function holds(c: { above?: number | undefined; equals?: unknown }, value: unknown): boolean {
  if (c.above !== undefined && typeof value === 'number' && value > c.above) return true;
  return c.equals !== undefined && isDeepStrictEqual(value, c.equals);
}
