import type { CheckResult } from '../health.js';
import type { PolicyInput, PolicyItem, PolicySubject } from './input.js';

/** A policy's answer for one call. `unavailable` marks a fail-closed denial (the engine could not decide). */
export interface PolicyDecision {
  readonly allow: boolean;
  readonly reason?: string;
  readonly unavailable?: boolean;
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
