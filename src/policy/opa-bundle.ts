import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { OK, type CheckResult } from '../health.js';
import { settleWithin } from '../wait.js';
import { bundleRoots, PolicyBundle } from './bundle.js';
import { configuredModules, declaresOwnPackage, kvModuleId, packagePath, scratchCopy, type GatewayModule, type OpaConfig } from './modules.js';
import { OpaApi } from './opa-api.js';
import type { PolicyDelivery } from './opa-delivery.js';
import { TAR_NAME_MAX, type TarEntry } from './tar.js';

/** What OPA said of a snippet compiled apart: `unknown` while OPA could not be asked. */
type Verdict = 'ok' | 'broken' | 'unknown';

/**
 * The gateway's Rego served as an OPA bundle (`policy.delivery: bundle`): OPA, configured with
 * a `services`/`bundles` entry pointing at the gateway, fetches it, polls it, and fetches it again
 * by itself after a restart. Nothing is pushed.
 *
 * One module that does not compile makes OPA refuse a whole bundle, so a service's snippet
 * (from a file or Consul KV) is first compiled apart in OPA under a scratch package, outside the
 * bundle's roots; one OPA rejects is left out (its last text OPA took stays in force), as with push. While OPA cannot be asked, a new
 * snippet goes in unchecked (leaving a service's restrictions out would widen access) and is
 * checked at the next tick.
 */
export class BundleDelivery implements PolicyDelivery {
  readonly bundle: PolicyBundle;
  /** Snippets from a dynamic source (Consul KV) as last synced, by service. */
  private dynamic: ReadonlyMap<string, string> = new Map();
  /** OPA's verdict on each snippet text it was asked about (texts change rarely; ask once). */
  private readonly verdicts = new Map<string, Verdict>();
  /** The last text of each snippet OPA compiled: kept in force when a newer one does not compile (as push does). */
  private readonly lastGood = new Map<string, string>();
  private unchecked = false;
  private building: Promise<void> = Promise.resolve();
  /** The revision OPA reported at the last check; undefined when it holds none of ours. */
  private held: string | undefined;
  private problem: string | undefined = 'OPA has not fetched the gateway bundle yet';
  private watcher: NodeJS.Timeout | undefined;

  constructor(
    private readonly cfg: OpaConfig,
    private readonly opa: OpaApi,
    private readonly logger: Logger,
  ) {
    this.bundle = new PolicyBundle(cfg.bundle);
  }

  /** Build the bundle; start waits at most 5 s for it (compiling snippets needs OPA), as push waits for its loading. */
  async start(): Promise<void> {
    await settleWithin(this.rebuild(), 5_000);
    this.watcher = setInterval(() => void this.tick(), this.cfg.checkIntervalMs).unref();
    void this.check();
  }

  stop(): void {
    clearInterval(this.watcher);
  }

  status(): CheckResult {
    if (this.problem !== undefined) return { ok: false, reason: this.problem };
    if (this.held !== this.bundle.revision) return { ok: true, reason: `OPA decides with revision ${this.held}; revision ${this.bundle.revision} is served and not fetched yet` };
    return OK;
  }

  suspect(): void {
    void this.check();
  }

  syncServiceSnippets(snippets: ReadonlyMap<string, string>): Promise<void> {
    this.dynamic = new Map(snippets);
    return this.rebuild();
  }

  private async tick(): Promise<void> {
    if (this.unchecked) await this.rebuild();
    await this.check();
  }

  /** Build the bundle again from the files and the dynamic snippets (once at a time, in order). */
  private rebuild(): Promise<void> {
    this.building = this.building.then(async () => {
      const modules: GatewayModule[] = [...configuredModules(this.cfg), ...[...this.dynamic].map(([service, rego]) => ({ id: kvModuleId(service), text: async () => rego, service }))];
      const files: TarEntry[] = [];
      const paths: string[] = [];
      this.unchecked = false;
      for (const m of modules) {
        let text: string;
        try {
          text = await m.text();
        } catch (err) {
          this.logger.error({ policy: m.id, err: (err as Error).message }, `cannot read policy ${m.id}; left out of the bundle`);
          continue;
        }
        const path = packagePath(text);
        if (!this.admissible(m, text, path)) continue;
        const verdict = m.service === undefined ? 'ok' : await this.compiles(m.id, text, m.service);
        if (verdict === 'broken') {
          const previous = this.lastGood.get(m.id);
          if (previous === undefined) continue;
          text = previous;
        } else if (verdict === 'ok') this.lastGood.set(m.id, text);
        else this.unchecked = true;
        files.push({ name: fileName(m.id), content: text });
        paths.push(path!);
      }
      const before = this.bundle.revision;
      const revision = this.bundle.update(files, bundleRoots(paths));
      if (revision !== before) this.logger.info({ revision, modules: files.length }, 'policy bundle built');
    }).catch((err: unknown) => {
      // The chain must survive one bad build: the last good bundle is served, the next change builds again.
      this.logger.error({ err: (err as Error).message }, 'cannot build the policy bundle; serving the last one built');
    });
    return this.building;
  }

  /** A module the bundle can hold: one with a package, and a snippet only in its own service's package. */
  private admissible(m: GatewayModule, text: string, path: string | undefined): boolean {
    if (m.service !== undefined && !declaresOwnPackage(text, m.service)) {
      this.logger.error({ service: m.service, policy: m.id }, `policy of service "${m.service}" must declare package mcp.services.${m.service}; left out`);
      return false;
    }
    if (path === undefined) {
      this.logger.error({ policy: m.id }, `policy ${m.id} declares no package the gateway can read (write "package a.b.c"); left out of the bundle`);
      return false;
    }
    return true;
  }

  /** Compile a snippet in OPA under a scratch package (then remove it): does OPA take it? */
  private async compiles(id: string, rego: string, service: string): Promise<Verdict> {
    const known = this.verdicts.get(rego);
    if (known && known !== 'unknown') return known;
    const path = OpaApi.policy(`mcp-gateway-check-${service}`);
    try {
      const { status, text } = await this.opa.send('PUT', path, 5_000, { type: 'text/plain', text: scratchCopy(rego, `mcp_gateway_check[${JSON.stringify(service)}]`) });
      if (status === 200) await this.opa.send('DELETE', path, 5_000);
      else if (status !== 400) throw new Error(`OPA answered HTTP ${status}`);
      else this.logger.error({ policy: id, opa: text.slice(0, 2000) }, `OPA rejected policy ${id}; left out of the bundle, other policies stay in force`);
      const verdict: Verdict = status === 200 ? 'ok' : 'broken';
      this.verdicts.set(rego, verdict);
      return verdict;
    } catch (err) {
      this.logger.warn({ policy: id, err: (err as Error).message }, `cannot ask OPA to compile policy ${id}; bundled unchecked, checked again later`);
      return 'unknown';
    }
  }

  /** Which revision of the gateway bundle does OPA hold (`data.system.bundles`)? */
  private async check(): Promise<void> {
    const name = this.cfg.bundle.name;
    try {
      const { status, text } = await this.opa.send('GET', `/v1/data/system/bundles/${encodeURIComponent(name)}/manifest/revision`, this.cfg.timeoutMs);
      if (status !== 200) {
        this.problem = `OPA answered HTTP ${status}`;
        return;
      }
      const held = (JSON.parse(text) as { result?: unknown }).result;
      this.held = typeof held === 'string' ? held : undefined;
      this.problem = this.held === undefined ? `OPA holds no bundle "${name}": configure OPA to fetch ${this.cfg.bundle.path} from the gateway (docs/opa-bundle.md)` : undefined;
    } catch {
      this.problem = 'OPA cannot be reached';
    }
  }
}

/** A module's file in the bundle: its policy id, or a digest of it when the id is too long for a tar entry name. */
function fileName(id: string): string {
  const name = `${id}.rego`;
  return Buffer.byteLength(name) <= TAR_NAME_MAX ? name : `mcp-gateway-${createHash('sha256').update(id).digest('hex').slice(0, 32)}.rego`;
}
