import type { CheckResult } from '../health.js';

/**
 * How the gateway's Rego reaches OPA: pushed over OPA's REST API, or served as a bundle OPA
 * fetches. Decisions are asked the same way either way (src/policy/opa.ts).
 */
export interface PolicyDelivery {
  start(): Promise<void>;
  stop(): void;
  /** Whether OPA holds the gateway's policies (readiness), with the reason when it does not. */
  status(): CheckResult;
  /** A decision came back empty: OPA may have lost the policies, look now rather than at the next tick. */
  suspect(): void;
  /** The service snippets a dynamic source (Consul KV) publishes now, all of them. */
  syncServiceSnippets(snippets: ReadonlyMap<string, string>): Promise<void>;
}
