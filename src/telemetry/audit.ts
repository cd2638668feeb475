import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { pino, type Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import type { CallOutcome } from './metrics.js';
import type { PolicyKind } from '../mcp/methods.js';
import type { PinReport } from '../pinning/pins.js';
import type { Era } from '../mcp/era.js';
import type { ConfirmOutcome } from '../confirm/outcome.js';
import { memoize } from '../memo.js';

/** Who called, as audit events name them: the verified identity, never the token. */
export interface AuditPrincipal {
  readonly issuer: string | null;
  readonly subject: string;
}

/** The client: its OAuth client id (verified), what it said about itself at initialize (not verified), its address. */
export interface AuditClient {
  readonly id: string | null;
  readonly name: string | null;
  readonly version: string | null;
  readonly ip: string | null;
  /** The protocol era it speaks: `session` or `stateless` (2026-07-28); null before a session exists. */
  readonly era: Era | null;
}

interface AuditCommon {
  /** ISO 8601, when the call ended or the request was refused. */
  readonly time: string;
  /** A digest of the Mcp-Session-Id (never the id itself, which is a credential); null before a session. */
  readonly session: string | null;
  /** The JSON-RPC id of the client's request, when the gateway could read it. */
  readonly request: string | number | null;
  readonly principal: AuditPrincipal | null;
  readonly client: AuditClient;
  /** The virtual server the request came through (`/mcp/<name>`), or null for `/mcp`. */
  readonly virtualServer: string | null;
  /** What was asked for (the policy's `request.kind`): tool, resource, prompt or completion; null when unknown. */
  readonly kind: PolicyKind | null;
  /** The tool or prompt name, or the resource URI (for a completion: the prompt or template), as the client named it. */
  readonly target: string | null;
  /** The tool of a `tools/call` (null for other requests). */
  readonly tool: string | null;
  readonly backend: string | null;
  /** Redacted arguments (per `audit.redact`): a tool's, a prompt's, a completion's argument; null otherwise. */
  readonly arguments: unknown;
  readonly traceId: string | null;
  readonly latencyMs: number;
}

/** One `tools/call` that was admitted and ran. */
export interface ToolCallEvent extends AuditCommon {
  readonly event: 'mcp.tool_call';
  readonly decision: 'allow';
  /** The instance that served (or last failed) the call. */
  readonly instance: string | null;
  readonly outcome: CallOutcome;
  /** The gateway error code of a failed call (`GW_UPSTREAM_…`), when there is one. */
  readonly errorCode: string | null;
  /** Size of the JSON-RPC response sent to the client. */
  readonly bytes: number;
  /**
   * When the policy asked the user to confirm the call (docs/confirmation.md): `accepted` (it ran),
   * `declined`, `cancelled`, `timeout`, `unavailable` (answered without the backend), or `asked`
   * (the client went away before answering); null when no confirmation was asked for.
   */
  readonly confirmation: ConfirmOutcome | 'asked' | null;
}

/**
 * One request other than `tools/call` that was admitted and routed to a backend:
 * `resources/read`, `resources/subscribe`, `resources/unsubscribe`, `prompts/get`, `completion/complete`.
 */
export interface RequestEvent extends AuditCommon {
  readonly event: 'mcp.request';
  readonly decision: 'allow';
  readonly method: string;
  readonly instance: string | null;
  readonly outcome: CallOutcome;
  readonly errorCode: string | null;
  readonly bytes: number;
}

/** One request the gateway refused: authentication, session, arguments or policy. */
export interface DenialEvent extends AuditCommon {
  readonly event: 'mcp.denial';
  readonly decision: 'deny';
  /** The gateway error code (docs/errors.md). */
  readonly code: string;
  readonly reason: string | null;
  /** HTTP status of the answer (200 for JSON-RPC errors and tool errors). */
  readonly status: number;
  /** JSON-RPC method, when the gateway could read it. */
  readonly method: string | null;
  readonly outcome: 'denied';
}

/** How a backend's request to the client ended. */
export type RelayOutcome = 'answered' | 'client_error' | 'refused' | 'denied' | 'timeout' | 'cancelled' | 'passed';

/**
 * One backend request relayed to the client (`sampling/createMessage`, `elicitation/create`,
 * `roots/list`), or refused on its way: `request` is the id the client saw, `target` the method,
 * `tool` the call that caused it.
 */
export interface RelayEvent extends AuditCommon {
  readonly event: 'mcp.relay';
  readonly decision: 'allow' | 'deny';
  readonly method: string;
  readonly outcome: RelayOutcome;
  /** The gateway error code the backend got instead of an answer, when it got one. */
  readonly code: string | null;
  readonly reason: string | null;
}

/**
 * Pinned definitions (docs/tool-pinning.md): a backend serves a definition other than the approved
 * one (`drift`), a new one awaits approval (`pending`), one is approved (`approved`, by an operator
 * or on first use), or one is served as approved again (`resolved`). Written once per change by
 * each instance that sees it, not per request.
 */
export interface PinEvent extends PinReport {
  readonly event: 'mcp.pin';
  readonly time: string;
}

export type AuditEvent = ToolCallEvent | RequestEvent | DenialEvent | RelayEvent | PinEvent;

/**
 * The session as logs and audit events name it: the first 128 bits of SHA-256 of the session id,
 * in hex. Stable, so one session's events can be joined; useless as a credential.
 * (`printf %s "$SESSION_ID" | sha256sum | cut -c1-32` computes it.)
 */
export const sessionRef: (id: string) => string = memoize((id) => createHash('sha256').update(id).digest('hex').slice(0, 32));

type Destination = ReturnType<typeof pino.destination>;

const DROP_LOG_INTERVAL_MS = 60_000;
/**
 * Lines are written once this much is buffered (or every `audit.flushIntervalMs`): one write per
 * event costs a thread-pool round trip (~70 µs of CPU per call in `npm run bench:audit`).
 */
const BATCH_BYTES = 8_192;

/**
 * The audit sink: JSON lines on stdout or appended to a file, written asynchronously through a
 * pino (sonic-boom) destination in batches of {@link BATCH_BYTES} or `audit.flushIntervalMs`,
 * whichever comes first (0: each event at once). Stopping the gateway writes what is buffered;
 * a crash loses at most one interval. The buffer is
 * bounded (`audit.maxBufferBytes`): when the sink cannot keep up, events are dropped and counted
 * (`mcp_gateway_audit_dropped_total`) rather than growing memory or slowing calls.
 */
export class AuditLog {
  private dropped = 0;
  private lastDropLog = 0;
  private closed = false;

  private constructor(
    private readonly dest: Destination | undefined,
    private readonly logger: Logger,
  ) {}

  /** Open the configured sink; rejects when the file cannot be opened, so a bad path stops the gateway at start. */
  static async open(cfg: GatewayConfig['audit'], logger: Logger, onDrop: () => void): Promise<AuditLog> {
    if (cfg.sink === 'off') return new AuditLog(undefined, logger);
    const batch = cfg.flushIntervalMs > 0 ? { minLength: BATCH_BYTES, periodicFlush: cfg.flushIntervalMs } : {};
    const dest = pino.destination({ dest: cfg.sink === 'file' ? cfg.file! : 1, sync: false, mkdir: true, append: true, maxLength: cfg.maxBufferBytes, ...batch });
    const log = new AuditLog(dest, logger);
    dest.on('drop', () => {
      onDrop();
      log.noteDrop();
    });
    if (cfg.sink === 'file') {
      const [err] = await Promise.race([once(dest, 'ready').then(() => [undefined]), once(dest, 'error')]);
      if (err) throw new Error(`audit.file: cannot open ${cfg.file}: ${(err as Error).message}`, { cause: err });
    }
    dest.on('error', (err: Error) => logger.error({ err: err.message }, 'audit sink write failed'));
    logger.info({ sink: cfg.sink, ...(cfg.file && cfg.sink === 'file' ? { file: cfg.file } : {}) }, 'audit trail on');
    return log;
  }

  /** Whether events are written at all (callers skip building them otherwise). */
  get enabled(): boolean {
    return this.dest !== undefined;
  }

  emit(event: AuditEvent): void {
    if (!this.closed) this.dest?.write(`${JSON.stringify(event)}\n`);
  }

  /** Write what is buffered and release the sink. */
  async close(): Promise<void> {
    const dest = this.dest;
    if (!dest || this.closed) return;
    this.closed = true;
    const closed = once(dest, 'close').catch(() => undefined);
    dest.end();
    await Promise.race([closed, new Promise((r) => setTimeout(r, 5_000).unref())]);
  }

  private noteDrop(): void {
    this.dropped++;
    const now = Date.now();
    if (now - this.lastDropLog < DROP_LOG_INTERVAL_MS) return;
    this.lastDropLog = now;
    this.logger.error({ dropped: this.dropped }, 'audit sink cannot keep up; events dropped');
  }
}
