import type { Logger } from 'pino';
import { OK, type CheckResult } from '../health.js';
import { retryUntil, settleWithin } from '../wait.js';
import { BASE_MODULE, configuredModules, declaresOwnPackage, kvModuleId, type OpaConfig } from './modules.js';
import { OpaApi } from './opa-api.js';
import type { PolicyDelivery } from './opa-delivery.js';

/**
 * The gateway's Rego pushed into OPA over its REST API (`policy.delivery: push`). At start the
 * gateway loads its base module, the global policy files and each service's snippet; a snippet
 * that does not compile is logged and left out, the others keep working.
 *
 * OPA keeps modules loaded over its API in memory only: after a restart it holds none, and
 * every decision would be "no decision". So the gateway checks every `checkIntervalMs` (and at
 * once when a decision comes back empty) that its base module is still there, and loads
 * everything again when it is not.
 */
export class PushDelivery implements PolicyDelivery {
  /** Snippets from a dynamic source (Consul KV) as last uploaded, by service. */
  private readonly dynamic = new Map<string, string>();
  private syncing: Promise<void> = Promise.resolve();
  /** Why OPA cannot decide now; undefined while it holds the gateway's policies. */
  private problem: string | undefined = 'the policies have not been loaded into OPA yet';
  private loading: Promise<void> | undefined;
  private checking = false;
  private watcher: NodeJS.Timeout | undefined;
  /** Ends the loading retries of a stopped gateway. */
  private readonly stopped = new AbortController();

  constructor(
    private readonly cfg: OpaConfig,
    private readonly opa: OpaApi,
    private readonly logger: Logger,
  ) {}

  /** Load the modules; while OPA is unreachable, keep trying in the background. */
  async start(): Promise<void> {
    this.watcher = setInterval(() => void this.check(), this.cfg.checkIntervalMs).unref();
    await settleWithin(this.load(), 5_000);
  }

  stop(): void {
    clearInterval(this.watcher);
    this.stopped.abort();
  }

  status(): CheckResult {
    return this.problem === undefined ? OK : { ok: false, reason: this.problem };
  }

  suspect(): void {
    void this.check();
  }

  /** Load every module (once at a time), then the dynamic snippets as last synced. */
  private load(): Promise<void> {
    this.loading ??= (async () => {
      if (!(await this.loadAll())) return;
      for (const [service, rego] of this.dynamic) await this.put(kvModuleId(service), rego, service).catch(() => undefined);
      this.problem = undefined;
    })().finally(() => (this.loading = undefined));
    return this.loading;
  }

  /** Is the base module still in OPA? Load everything again when it is gone (OPA restarted). */
  private async check(): Promise<void> {
    if (this.checking || this.loading) return;
    this.checking = true;
    try {
      const { status } = await this.opa.send('GET', OpaApi.policy(BASE_MODULE), this.cfg.timeoutMs);
      if (status === 200) this.problem = undefined;
      else if (status === 404) {
        this.problem = 'OPA no longer holds the gateway policies (restarted?); loading them again';
        this.logger.warn(this.problem);
        void this.load();
      } else this.problem = `OPA answered HTTP ${status}`;
    } catch {
      this.problem = 'OPA cannot be reached';
    } finally {
      this.checking = false;
    }
  }

  /** Upload every configured module, retrying while OPA is unreachable; false when stopped first. */
  private loadAll(): Promise<boolean> {
    const modules = configuredModules(this.cfg);
    return retryUntil(
      async () => {
        for (const m of modules) await this.put(m.id, await m.text(), m.service);
        this.logger.info({ modules: modules.length }, 'policies loaded into OPA');
      },
      {
        firstMs: 500,
        maxMs: 10_000,
        signal: this.stopped.signal,
        onFailure: (err) => {
          this.problem = 'OPA cannot be reached to load the policies';
          this.logger.warn({ err: (err as Error).message }, 'cannot reach OPA to load policies; retrying');
        },
      },
    );
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
          await this.put(kvModuleId(service), rego, service);
          this.dynamic.set(service, rego);
        } catch (err) {
          this.logger.warn({ service, err: (err as Error).message }, 'cannot load the service policy into OPA yet');
        }
      }
      for (const service of [...this.dynamic.keys()]) {
        if (snippets.has(service)) continue;
        try {
          await this.opa.send('DELETE', OpaApi.policy(kvModuleId(service)), 5_000);
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
    if (service !== undefined && !declaresOwnPackage(rego, service)) {
      this.logger.error({ service, policy: id }, `policy of service "${service}" must declare package mcp.services.${service}; left out`);
      return;
    }
    const { status, text } = await this.opa.send('PUT', OpaApi.policy(id), 5_000, { type: 'text/plain', text: rego });
    if (status !== 200) this.logger.error({ policy: id, opa: text.slice(0, 2000) }, `OPA rejected policy ${id}; left out, other policies stay in force`);
  }
}
