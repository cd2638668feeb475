import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import type { Logger } from 'pino';
import type { Dispatcher } from 'undici';
import type { GatewayConfig } from '../config/schema.js';
import { packageFile } from '../package-file.js';
import { undecided, type PolicyDecision, type PolicyEngine } from './engine.js';
import { readDecision } from './decision.js';
import type { PolicyInput, PolicyItem, PolicySubject } from './input.js';
import { settleWithin } from '../wait.js';
import { OK, type CheckResult } from '../health.js';

type OpaConfig = Extract<GatewayConfig['policy'], { engine: 'opa' }>;

/** Rego package a service's snippet must declare, so it can only speak for its own service. */
const SERVICE_PACKAGE = /^\s*package\s+mcp\.services\.(?:([A-Za-z_][A-Za-z0-9_]*)|\["([^"]+)"\])\s*$/m;

/** The id of the gateway's base module in OPA: its presence says OPA still holds what the gateway loaded. */
const BASE_MODULE = 'mcp-gateway-base';

/**
 * Policy decisions by OPA over its REST API. At start the gateway loads its base module
 * (src/policy/base.rego), the global policy files and each service's snippet; a snippet that
 * does not compile is logged and left out, the others keep working. Every failure to get an
 * answer denies (fail closed).
 *
 * OPA keeps modules loaded over its API in memory only: after a restart it holds none, and
 * every decision would be "no decision". So the gateway checks every `checkIntervalMs` (and at
 * once when a decision comes back empty) that its base module is still there, and loads
 * everything again when it is not. Readiness reports OPA unreachable or its policies missing.
 */
export class OpaPolicy implements PolicyEngine {
  private readonly origin: string;
  /** Snippets from a dynamic source (Consul KV) as last uploaded, by service. */
  private readonly dynamic = new Map<string, string>();
  private syncing: Promise<void> = Promise.resolve();
  /** Why OPA cannot decide now; undefined while it holds the gateway's policies. */
  private problem: string | undefined = 'the policies have not been loaded into OPA yet';
  private loading: Promise<void> | undefined;
  private checking = false;
  private watcher: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: OpaConfig,
    private readonly dispatcher: Dispatcher,
    private readonly logger: Logger,
  ) {
    this.origin = new URL(cfg.url).origin;
  }

  /** Load the modules; while OPA is unreachable, keep trying in the background. */
  async start(): Promise<void> {
    this.watcher = setInterval(() => void this.check(), this.cfg.checkIntervalMs).unref();
    await settleWithin(this.load(), 5_000);
  }

  stop(): void {
    clearInterval(this.watcher);
  }

  status(): CheckResult {
    return this.problem === undefined ? OK : { ok: false, reason: this.problem };
  }

  /** Load every module (once at a time), then the dynamic snippets as last synced. */
  private load(): Promise<void> {
    this.loading ??= (async () => {
      await this.loadAll();
      for (const [service, rego] of this.dynamic) await this.put(`mcp-gateway-kv-${service}`, rego, service).catch(() => undefined);
      this.problem = undefined;
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Is the base module still in OPA? Load everything again when it is gone (OPA restarted). */
  private async check(): Promise<void> {
    if (this.checking || this.loading) return;
    this.checking = true;
    try {
      const res = await this.dispatcher.request({ origin: this.origin, path: `/v1/policies/${BASE_MODULE}`, method: 'GET', signal: AbortSignal.timeout(this.cfg.timeoutMs) });
      await res.body.dump();
      if (res.statusCode === 200) this.problem = undefined;
      else if (res.statusCode === 404) {
        this.problem = 'OPA no longer holds the gateway policies (restarted?); loading them again';
        this.logger.warn(this.problem);
        void this.load();
      } else this.problem = `OPA answered HTTP ${res.statusCode}`;
    } catch {
      this.problem = 'OPA cannot be reached';
    } finally {
      this.checking = false;
    }
  }

  async decide(input: PolicyInput): Promise<PolicyDecision> {
    try {
      const decided = readDecision(await this.query(this.cfg.decisionPath, input));
      if (decided) return decided;
      void this.check(); // an empty answer may mean OPA lost the policies
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
        void this.check();
        throw new Error(`policy at ${this.cfg.visiblePath} did not return a list`);
      }
      return new Set(result.filter((x): x is string => typeof x === 'string'));
    } catch (err) {
      this.logger.warn({ err: (err as Error).message }, 'OPA listing decision failed; showing nothing');
      return undecided();
    }
  }

  private async query(path: string, input: unknown): Promise<unknown> {
    const res = await this.dispatcher.request({
      origin: this.origin,
      path: `/v1/data/${path.replace(/^\/+/, '')}`,
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ input }),
      signal: AbortSignal.timeout(this.cfg.timeoutMs),
    });
    const text = await res.body.text();
    if (res.statusCode !== 200) throw new Error(`OPA answered HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
    return (JSON.parse(text) as { result?: unknown }).result;
  }

  private async loadAll(): Promise<void> {
    const modules: Array<{ id: string; text: () => Promise<string>; service?: string }> = [
      { id: BASE_MODULE, text: async () => packageFile('src/policy/base.rego') },
      ...this.cfg.policyFiles.map((f) => ({ id: `mcp-gateway-file-${basename(f)}`, text: () => readFile(f, 'utf8') })),
      ...Object.entries(this.cfg.servicePolicies).map(([service, f]) => ({ id: `mcp-gateway-service-${service}`, text: () => readFile(f, 'utf8'), service })),
    ];
    for (let delay = 500; ; delay = Math.min(delay * 2, 10_000)) {
      try {
        for (const m of modules) await this.put(m.id, await m.text(), m.service);
        this.logger.info({ modules: modules.length }, 'policies loaded into OPA');
        return;
      } catch (err) {
        this.problem = 'OPA cannot be reached to load the policies';
        this.logger.warn({ err: (err as Error).message }, 'cannot reach OPA to load policies; retrying');
        await new Promise((r) => setTimeout(r, delay).unref());
      }
    }
  }

  /**
   * Make OPA hold exactly these service snippets from a dynamic source (Consul KV): changed ones
   * are uploaded, removed ones deleted. Calls are serialised so updates apply in order.
   */
  syncServiceSnippets(snippets: ReadonlyMap<string, string>): Promise<void> {
    this.syncing = this.syncing.then(async () => {
      for (const [service, rego] of snippets) {
        if (this.dynamic.get(service) === rego) continue;
        try {
          await this.put(`mcp-gateway-kv-${service}`, rego, service);
          this.dynamic.set(service, rego);
        } catch (err) {
          this.logger.warn({ service, err: (err as Error).message }, 'cannot load the service policy into OPA yet');
        }
      }
      for (const service of [...this.dynamic.keys()]) {
        if (snippets.has(service)) continue;
        try {
          const res = await this.dispatcher.request({ origin: this.origin, path: `/v1/policies/${encodeURIComponent(`mcp-gateway-kv-${service}`)}`, method: 'DELETE', signal: AbortSignal.timeout(5_000) });
          await res.body.dump();
          this.dynamic.delete(service);
          this.logger.info({ service }, 'service policy removed from OPA');
        } catch (err) {
          this.logger.warn({ service, err: (err as Error).message }, 'cannot remove the service policy from OPA yet');
        }
      }
    });
    return this.syncing;
  }

  /** Upload one module; a module OPA rejects is logged and skipped, a network failure is thrown (retry). */
  private async put(id: string, rego: string, service?: string): Promise<void> {
    if (service !== undefined) {
      const m = SERVICE_PACKAGE.exec(rego);
      if (!m || (m[1] ?? m[2]) !== service) {
        this.logger.error({ service, policy: id }, `policy of service "${service}" must declare package mcp.services.${service}; left out`);
        return;
      }
    }
    const res = await this.dispatcher.request({ origin: this.origin, path: `/v1/policies/${encodeURIComponent(id)}`, method: 'PUT', headers: { 'content-type': 'text/plain' }, body: rego, signal: AbortSignal.timeout(5_000) });
    const text = await res.body.text();
    if (res.statusCode !== 200) this.logger.error({ policy: id, opa: text.slice(0, 2000) }, `OPA rejected policy ${id}; left out, other policies stay in force`);
  }
}
