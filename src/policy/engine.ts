import type { CheckResult } from '../health.js';
import type { PolicyInput, PolicyItem, PolicySubject } from './input.js';

/** What a policy asks the user to confirm before a tool call goes on (docs/confirmation.md). */
export interface Confirmation {
  /** The policy's words to the user, shown with the call's summary; null: the summary alone. */
  readonly message: string | null;
}

/**
 * A policy's answer for one call. `unavailable` marks a fail-closed denial (the engine could not
 * decide). `confirm`: allowed once the user confirms it; `allow` is false then, so any path that
 * cannot ask the user (everything but `tools/call`) denies rather than lets it through.
 */
export interface PolicyDecision {
  readonly allow: boolean;
  readonly reason?: string;
  readonly unavailable?: boolean;
  readonly confirm?: Confirmation;
}

/** The reason a confirmation answer carries where the user cannot be asked. */
export const CONFIRM_ONLY_FOR_TOOLS = 'the policy asks the user to confirm, which only tool calls can do';

/** "Allowed once the user confirms", as every engine answers it. */
export function confirmDecision(message: string | null): PolicyDecision {
  return { allow: false, confirm: { message }, reason: CONFIRM_ONLY_FOR_TOOLS };
}

/** Port: may this caller do this (call a tool, read a resource, get a prompt, complete); which entries may it see? */
export interface PolicyEngine {
  /** True for an engine that allows everything: callers skip building inputs it would not read. */
  readonly allowsAll?: boolean;
  decide(input: PolicyInput): Promise<PolicyDecision>;
  /** The `request.name`s of the items the subject may use, decided in one batch (listing: arguments are empty). */
  visible(subject: PolicySubject, items: readonly PolicyItem[]): Promise<ReadonlySet<string>>;
  start?(): Promise<void>;
  stop?(): void;
  /** Whether the engine can decide now (readiness); absent: always. */
  status?(): CheckResult;
}

/** What `visible` answers when the engine could not decide: nothing shown, marked so it is not taken for a decision. */
export function undecided(): ReadonlySet<string> & { readonly undecided: true } {
  return Object.assign(new Set<string>(), { undecided: true as const });
}

/** Whether a `visible` answer is {@link undecided} rather than the engine's decision. */
export function isUndecided(visible: ReadonlySet<string>): boolean {
  return (visible as { undecided?: boolean }).undecided === true;
}

/** No policy configured: everything is allowed (the standalone default). */
export class AllowAllPolicy implements PolicyEngine {
  readonly allowsAll = true;
  async decide(): Promise<PolicyDecision> {
    return { allow: true };
  }
  async visible(_s: PolicySubject, items: readonly PolicyItem[]): Promise<ReadonlySet<string>> {
    return new Set(items.map((i) => i.request.name));
  }
}
