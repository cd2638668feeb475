import type { CatalogTool } from '../catalog/model.js';
import type { PolicyInput, PolicySubject } from './input.js';

/** A policy's answer for one call. `unavailable` marks a fail-closed denial (the engine could not decide). */
export interface PolicyDecision {
  readonly allow: boolean;
  readonly reason?: string;
  readonly unavailable?: boolean;
}

/** Port: may this caller call this tool with these arguments; which tools may it see? */
export interface PolicyEngine {
  /** True for an engine that allows everything: callers skip building inputs it would not read. */
  readonly allowsAll?: boolean;
  decide(input: PolicyInput): Promise<PolicyDecision>;
  /** Names of the tools the subject may call, decided in one batch (listing: arguments are empty). */
  visible(subject: PolicySubject, tools: readonly CatalogTool[]): Promise<ReadonlySet<string>>;
  start?(): Promise<void>;
}

/** No policy configured: everything is allowed (the standalone default). */
export class AllowAllPolicy implements PolicyEngine {
  readonly allowsAll = true;
  async decide(): Promise<PolicyDecision> {
    return { allow: true };
  }
  async visible(_s: PolicySubject, tools: readonly CatalogTool[]): Promise<ReadonlySet<string>> {
    return new Set(tools.map((t) => t.name));
  }
}
