import type { Logger } from 'pino';
import type { PinningConfig } from '../config/schema.js';
import { GatewayError } from '../errors.js';
import { OK, type CheckResult } from '../health.js';
import { settleWithin } from '../wait.js';
import { definitionDigest } from './digest.js';
import { pinKey, type PinCandidate, type PinKind, type PinReview } from './review.js';
import type { Approval, ApprovalStore } from './store.js';

/** An entry whose served definition is not the approved one: what the backend serves, what was approved, what clients get. */
export interface Finding {
  readonly key: string;
  readonly kind: PinKind;
  readonly backend: string;
  readonly name: string;
  /** `new`: never approved (manual mode); `drifted`: differs from the approved definition. */
  readonly status: 'new' | 'drifted';
  readonly digest: string;
  readonly definition: unknown;
  readonly approvedDigest: string | null;
  readonly approvedDefinition: unknown;
  /** What clients get meanwhile: the approved definition, or nothing. */
  readonly serving: 'approved' | 'hidden';
  /** ISO 8601: when this instance first saw this definition. */
  readonly since: string;
}

/**
 * What pinning reports (the `mcp.pin` audit event): a backend serves a definition other than the
 * approved one (`drift`), a new one awaits approval (`pending`), one is approved (by an operator or
 * on first use), or one is served as approved again (`resolved`).
 */
export interface PinReport {
  readonly action: 'drift' | 'pending' | 'resolved' | 'approved';
  readonly kind: PinKind;
  readonly backend: string;
  /** The backend's own name of the tool or prompt. */
  readonly name: string;
  /** The digest of the definition the backend serves (for `approved`: the one approved). */
  readonly digest: string;
  readonly approvedDigest: string | null;
  /** What clients get meanwhile: the approved definition or nothing; null when nothing is held back. */
  readonly serving: 'approved' | 'hidden' | null;
  /** `first-use`, or the approving operator as `issuer#subject`. */
  readonly approvedBy: string | null;
}

export interface DefinitionPinsOptions {
  readonly config: PinningConfig;
  readonly store: ApprovalStore;
  readonly logger: Logger;
  readonly report?: (r: PinReport) => void;
  /** How long start() waits for the first read of the store before going on (pinned entries stay hidden until it succeeds). */
  readonly startWaitMs?: number;
}

/**
 * Pinned definitions: the approvals every instance shares (a local copy of the store, read again
 * every `syncIntervalMs`) and the judgement of each catalog build against them. Everything runs
 * when a snapshot is built, never per request: `tools/list` serves the snapshot as it is.
 */
export class DefinitionPins {
  private approvals = new Map<string, Approval>();
  private loaded = false;
  private syncError: string | undefined;
  private findings = new Map<string, Finding>();
  private readonly digests = new WeakMap<object, string>();
  private readonly listeners = new Set<() => void>();
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;

  constructor(private readonly opts: DefinitionPinsOptions) {}

  get storeKind(): ApprovalStore['kind'] {
    return this.opts.store.kind;
  }

  /** Read the approvals (waiting a bounded time), then read them again every `syncIntervalMs`. */
  async start(): Promise<void> {
    await settleWithin(this.sync(), this.opts.startWaitMs ?? 10_000);
    this.timer = setInterval(() => void this.sync(), this.opts.config.syncIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    await this.opts.store.close();
  }

  /** Called when the approvals change what a build would serve: the catalog rebuilds. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Entries not served as the backend serves them now, sorted by key. */
  pending(): Finding[] {
    return [...this.findings.values()].sort((a, b) => (a.key < b.key ? -1 : 1));
  }

  /** Not ok while something drifted or awaits approval, or while the approvals cannot be read (never critical: see docs/tool-pinning.md). */
  health(): CheckResult {
    if (!this.loaded) return { ok: false, reason: `pinned entries are hidden until the ${this.storeKind} approval store can be read${this.syncError ? `: ${this.syncError}` : ''}` };
    const drifted = this.pending().filter((f) => f.status === 'drifted');
    const unapproved = this.pending().filter((f) => f.status === 'new');
    if (drifted.length === 0 && unapproved.length === 0) return this.syncError ? { ok: false, reason: `approvals not refreshed: ${this.syncError}` } : OK;
    const parts: string[] = [];
    if (drifted.length) parts.push(`definition drift (${drifted.map((f) => `${f.key}: ${f.serving === 'approved' ? 'serving the approved definition' : 'hidden'}`).join(', ')})`);
    if (unapproved.length) parts.push(`awaiting approval, hidden (${unapproved.map((f) => f.key).join(', ')})`);
    return { ok: false, reason: `${parts.join('; ')}; approve with \`mcp-gateway tools approve\` or POST /admin/pins/approve` };
  }

  /** Start judging the entries of one snapshot build; `close` it once the build is done. */
  open(): PinReview & { close(): void } {
    const next = new Map<string, Finding>();
    const matched = new Set<string>();
    return {
      review: <T>(candidates: readonly PinCandidate<T>[]): T[] => {
        const out: T[] = [];
        for (const c of candidates) {
          const served = this.judge(c, next, matched);
          if (served !== undefined) out.push(c.build(served));
        }
        return out;
      },
      close: () => this.commit(next, matched),
    };
  }

  /**
   * An operator's approval of the definition with `digest` that `key` serves now (the digest
   * makes sure what is approved is what was reviewed, not a later change).
   */
  async approve(key: string, digest: string, by: string): Promise<Finding> {
    const f = this.findings.get(key);
    if (!f) throw new GatewayError('GW_APPROVAL_NOT_PENDING', `nothing awaits approval under "${key}" on this instance`);
    if (f.digest !== digest) throw new GatewayError('GW_APPROVAL_DIGEST_MISMATCH', `"${key}" serves ${f.digest} now, not ${digest}; review it again`);
    const approval: Approval = { digest, definition: f.definition, approvedAt: new Date().toISOString(), approvedBy: by };
    try {
      await this.opts.store.put(key, approval);
    } catch (err) {
      throw new GatewayError('GW_APPROVAL_STORE_UNAVAILABLE', (err as Error).message, { cause: err });
    }
    this.approvals.set(key, approval);
    this.opts.logger.warn({ key, digest, previous: f.approvedDigest, by }, 'definition approved');
    this.opts.report?.({ action: 'approved', kind: f.kind, backend: f.backend, name: f.name, digest, approvedDigest: f.approvedDigest, serving: null, approvedBy: by });
    this.changed();
    return f;
  }

  /** The definition to serve for one candidate (the current or the approved one), or undefined to leave it out. */
  private judge<T>(c: PinCandidate<T>, findings: Map<string, Finding>, matched: Set<string>): unknown {
    const mode = c.overrides?.mode ?? this.opts.config.mode;
    if (mode === 'off') return c.subject;
    if (!this.loaded) return undefined;
    const key = pinKey(c.kind, c.backend, c.name);
    const digest = this.digestOf(c.subject);
    let approved = this.approvals.get(key);
    if (!approved && mode === 'trust-on-first-use') approved = this.trustFirstUse(key, c, digest);
    if (approved?.digest === digest) {
      matched.add(key);
      return c.subject;
    }
    const keep = approved !== undefined && (c.overrides?.onDrift ?? this.opts.config.onDrift) === 'keep-approved';
    const previous = this.findings.get(key);
    findings.set(key, {
      key,
      kind: c.kind,
      backend: c.backend,
      name: c.name,
      status: approved ? 'drifted' : 'new',
      digest,
      definition: c.subject,
      approvedDigest: approved?.digest ?? null,
      approvedDefinition: approved?.definition ?? null,
      serving: keep ? 'approved' : 'hidden',
      since: previous?.digest === digest ? previous.since : new Date().toISOString(),
    });
    return keep ? approved!.definition : undefined;
  }

  private digestOf(subject: unknown): string {
    if (typeof subject !== 'object' || subject === null) return definitionDigest(subject);
    let d = this.digests.get(subject);
    if (d === undefined) this.digests.set(subject, (d = definitionDigest(subject)));
    return d;
  }

  /** Approve what is seen first, at once here and in the store; another instance that was first wins. */
  private trustFirstUse(key: string, c: PinCandidate<unknown>, digest: string): Approval {
    const mine: Approval = { digest, definition: c.subject, approvedAt: new Date().toISOString(), approvedBy: 'first-use' };
    this.approvals.set(key, mine);
    this.opts.store.putIfAbsent(key, mine).then(
      (winner) => {
        if (winner === mine || winner.digest === digest) {
          if (winner === mine) this.opts.report?.({ action: 'approved', kind: c.kind, backend: c.backend, name: c.name, digest, approvedDigest: null, serving: null, approvedBy: 'first-use' });
          return;
        }
        this.approvals.set(key, winner);
        this.changed();
      },
      (err: unknown) => this.opts.logger.warn({ key, err: (err as Error).message }, 'cannot record a first-use approval; it is tried again at the next build'),
    );
    return mine;
  }

  /** Keep the findings of a finished build; log and report each one that is new or ended (once per change, not per build). */
  private commit(next: Map<string, Finding>, matched: ReadonlySet<string>): void {
    const before = this.findings;
    this.findings = next;
    for (const f of next.values()) {
      const was = before.get(f.key);
      if (was && was.digest === f.digest && was.approvedDigest === f.approvedDigest && was.serving === f.serving) continue;
      const fields = { key: f.key, digest: f.digest, approvedDigest: f.approvedDigest, serving: f.serving };
      if (f.status === 'drifted') this.opts.logger.warn(fields, 'definition drift: the backend serves a definition other than the approved one');
      else this.opts.logger.warn(fields, 'new definition awaits approval; hidden until approved');
      this.opts.report?.({ action: f.status === 'drifted' ? 'drift' : 'pending', kind: f.kind, backend: f.backend, name: f.name, digest: f.digest, approvedDigest: f.approvedDigest, serving: f.serving, approvedBy: null });
    }
    for (const f of before.values()) {
      // Not matched: the entry left its backend (or pinning was turned off for it); nothing to report.
      if (next.has(f.key) || !matched.has(f.key)) continue;
      const now = this.approvals.get(f.key);
      this.opts.logger.info({ key: f.key, digest: now?.digest ?? null }, 'definition serves as approved again');
      this.opts.report?.({ action: 'resolved', kind: f.kind, backend: f.backend, name: f.name, digest: now?.digest ?? f.digest, approvedDigest: now?.digest ?? null, serving: null, approvedBy: now?.approvedBy ?? null });
    }
  }

  /** Read the store; a change of any approval makes the catalog rebuild. */
  private sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const read = await this.opts.store.list();
        const first = !this.loaded;
        const differs = first || read.size !== this.approvals.size || [...read].some(([k, a]) => this.approvals.get(k)?.digest !== a.digest);
        this.loaded = true;
        if (this.syncError) this.opts.logger.info({ store: this.storeKind }, 'approval store readable again');
        this.syncError = undefined;
        if (!differs) return;
        this.approvals = read;
        this.changed();
      } catch (err) {
        if (this.syncError === undefined) this.opts.logger.warn({ store: this.storeKind, err: (err as Error).message }, 'cannot read the approval store; keeping the approvals read last');
        this.syncError = (err as Error).message;
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  private changed(): void {
    for (const l of this.listeners) l();
  }
}
