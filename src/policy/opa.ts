import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { CheckResult } from '../health.js';
import { undecided, type PolicyDecision, type PolicyEngine } from './engine.js';
import { readDecision } from './decision.js';
import type { PolicyInput, PolicyItem, PolicySubject } from './input.js';
import type { OpaConfig } from './modules.js';
import { BundleDelivery } from './opa-bundle.js';
import type { PolicyDelivery } from './opa-delivery.js';
import { PushDelivery } from './opa-push.js';
import type { PolicyBundle } from './bundle.js';
import { OpaApi } from './opa-api.js';

/**
 * Policy decisions by OPA over its REST API. The gateway's Rego (its base module, the global
 * policy files, the services' snippets) reaches OPA as `policy.delivery` says: pushed over the
 * API (src/policy/opa-push.ts) or served as a bundle OPA fetches (src/policy/opa-bundle.ts).
 * Every failure to get an answer denies (fail closed). Readiness reports OPA unreachable or
 * without the gateway's policies.
 */
export class OpaPolicy implements PolicyEngine {
  private readonly opa: OpaApi;
  private readonly delivery: PolicyDelivery;
  /** The bundle OPA fetches from the gateway; undefined when policies are pushed. */
  readonly bundle: PolicyBundle | undefined;

  constructor(
    private readonly cfg: OpaConfig,
    dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {
    this.opa = new OpaApi(cfg.url, dispatcher);
    if (cfg.delivery === 'bundle') {
      const delivery = new BundleDelivery(cfg, this.opa, logger);
      this.delivery = delivery;
      this.bundle = delivery.bundle;
    } else {
      this.delivery = new PushDelivery(cfg, this.opa, logger);
      this.bundle = undefined;
    }
  }

  start(): Promise<void> {
    return this.delivery.start();
  }

  stop(): void {
    this.delivery.stop();
  }

  status(): CheckResult {
    return this.delivery.status();
  }

  /** The service snippets a dynamic source (Consul KV) publishes now, all of them. */
  syncServiceSnippets(snippets: ReadonlyMap<string, string>): Promise<void> {
    return this.delivery.syncServiceSnippets(snippets);
  }

  async decide(input: PolicyInput): Promise<PolicyDecision> {
    try {
      const decided = readDecision(await this.query(this.cfg.decisionPath, input));
      if (decided) return decided;
      this.delivery.suspect(); // an empty answer may mean OPA lost the policies
      return { allow: false, unavailable: true, reason: `policy at ${this.cfg.decisionPath} gave no decision` };
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'OPA decision failed; denying');
      // The detail (OPA's address) stays in the log: the client learns only that policy could not decide.
      return { allow: false, unavailable: true, reason: 'the policy engine could not be reached' };
    }
  }

  async visible(subject: PolicySubject, items: readonly PolicyItem[]): Promise<ReadonlySet<string>> {
    try {
      const result = await this.query(this.cfg.visiblePath, { ...subject, items });
      if (!Array.isArray(result)) {
        this.delivery.suspect();
        throw new Error(`policy at ${this.cfg.visiblePath} did not return a list`);
      }
      return new Set(result.filter((x): x is string => typeof x === 'string'));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'OPA listing decision failed; showing nothing');
      return undecided();
    }
  }

  private async query(path: string, input: unknown): Promise<unknown> {
    const { status, text } = await this.opa.send('POST', `/v1/data/${path.replace(/^\/+/, '')}`, this.cfg.timeoutMs, { type: 'application/json', text: JSON.stringify({ input }) });
    if (status !== 200) throw new Error(`OPA answered HTTP ${status}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { result?: unknown }).result;
  }
}
