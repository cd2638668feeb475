/**
 * Liveness and readiness, with reasons. Each dependency reports a {@link CheckResult}; a failing
 * critical one (sessions, identity, policy: without them no request can be served correctly)
 * makes the gateway not ready, a failing other one (a stale Consul view, a backend discovery that
 * fails) degraded: it still serves, from what it knew last.
 */

/** What one dependency says of itself. */
export interface CheckResult {
  readonly ok: boolean;
  /** Why it is not ok (or a note while it is). */
  readonly reason?: string;
}

export interface Check {
  readonly name: string;
  readonly critical: boolean;
  run(): CheckResult;
}

export type HealthStatus = 'ready' | 'degraded' | 'not ready';

export interface HealthReport {
  readonly status: HealthStatus;
  readonly checks: Readonly<Record<string, CheckResult & { readonly critical: boolean }>>;
}

/** Run every check (each reads state the component already keeps: no I/O here). */
export function healthReport(checks: readonly Check[]): HealthReport {
  const out: Record<string, CheckResult & { critical: boolean }> = {};
  let status: HealthStatus = 'ready';
  for (const c of checks) {
    const r = c.run();
    out[c.name] = { ...r, critical: c.critical };
    if (!r.ok) status = c.critical ? 'not ready' : status === 'ready' ? 'degraded' : status;
  }
  return { status, checks: out };
}

export const OK: CheckResult = { ok: true };
