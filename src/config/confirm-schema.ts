/**
 * Human confirmation of consequential tool calls (docs/confirmation.md): the `confirm` action of
 * a built-in policy rule, and the `confirmation` section (how long the user has to answer).
 */
import { z } from 'zod';
import { positiveMs } from './backend-schema.js';

/** One condition on a top-level argument of the call: it holds when the argument is above a number, or equals a value. */
const argumentCondition = z
  .object({
    name: z.string().min(1),
    /** Holds when the argument is a number greater than this. */
    above: z.number().optional(),
    /** Holds when the argument equals this JSON value. */
    equals: z.unknown().optional(),
  })
  .strict()
  .refine((c) => c.above !== undefined || c.equals !== undefined, { message: 'needs "above" or "equals"' });

/**
 * `confirm` of a rule: `true` (every call the rule allows), or conditions that must all hold —
 * `destructive` (the tool's `destructiveHint` annotation, which MCP defaults to true when absent)
 * and `arguments` (any one of them) — plus the message the user reads.
 */
export const confirmRuleSchema = z.union([
  z.literal(true),
  z
    .object({
      message: z.string().min(1).max(1_000).optional(),
      destructive: z.boolean().optional(),
      arguments: z.array(argumentCondition).min(1).optional(),
    })
    .strict(),
]);

export const confirmationSchema = z
  .object({
    /** How long a session client's user has to answer before the call is refused (GW_CONFIRMATION_TIMEOUT). */
    timeoutMs: positiveMs.default(120_000),
  })
  .strict()
  .prefault({});
