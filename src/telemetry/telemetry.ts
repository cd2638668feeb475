import type { Logger } from 'pino';
import type { AdmissionObserver, Denial } from '../admission/observer.js';
import type { Caller } from '../auth/caller.js';
import type { Catalog } from '../catalog/catalog.js';
import { catalogNameOf } from '../catalog/model.js';
import type { GatewayConfig } from '../config/schema.js';
import { isResponse, toJson, type JsonRpcMessage, type JsonRpcResponse } from '../mcp/jsonrpc.js';
import type { SessionRecord, SessionStore } from '../session/store.js';
import { eraOf } from '../mcp/era.js';
import type { RoutedCall, RoutedExecutor, ToolCall, ToolExecutor, UpstreamCall } from '../upstream/call.js';
import type { Pools } from '../upstream/pool.js';
import type { HealthReport } from '../health.js';
import { GatewayError } from '../errors.js';
import { ERROR_META_KEY } from '../upstream/results.js';
import { AuditLog, sessionRef, type AuditClient, type AuditPrincipal, type RelayOutcome } from './audit.js';
import { GatewayMetrics, type CallOutcome, type MetricsSources } from './metrics.js';
import type { DefinitionPins, PinReport } from '../pinning/pins.js';
import type { ConcurrencyCaps } from '../upstream/concurrency.js';
import { createRedactor, type Redactor } from './redact.js';
import { routedSpan, toolCallSpan } from './call-spans.js';
import { endCallSpan, startCallSpan, traceCarrier, traceIdOf, type CallSpan } from './trace.js';
import { openTracing, type Tracing } from './tracing.js';

export interface TelemetryDeps {
  readonly logger: Logger;
  readonly sessions: SessionStore;
  readonly catalog: Catalog;
  readonly pools: Pools;
  readonly pins?: DefinitionPins | undefined;
  /** The per-backend caps on calls open at once, read at scrape time. */
  readonly caps?: ConcurrencyCaps;
  /** The core's readiness report, read at scrape time (the checks are assembled after telemetry). */
  readonly health?: () => HealthReport | undefined;
}

const MAX_TEXT = 256;
const TIMEOUT = 'GW_UPSTREAM_TIMEOUT';
/** Refused at the backend's `maxConcurrentCalls` before reaching it: load shed by the gateway, not a backend failure (`busy`). */
const BUSY = 'GW_UPSTREAM_BUSY';
const UPSTREAM_FAILURES = new Set(['GW_UPSTREAM_UNAVAILABLE', 'GW_UPSTREAM_PROTOCOL', 'GW_TOKEN_EXCHANGE_UNAVAILABLE']);

/**
 * Audit trail, metrics and tracing for one gateway core. The core reports to it, not the
 * transport: admission tells it of denials ({@link AdmissionObserver}), the broker runs each
 * tool call through {@link observeCall}. So the standalone server and the Envoy adapter share it.
 */
export class Telemetry implements AdmissionObserver {
  private constructor(
    readonly metrics: GatewayMetrics,
    readonly audit: AuditLog,
    private readonly redact: Redactor,
    private readonly logger: Logger,
    private readonly tracing: Tracing,
  ) {}

  static async open(config: Readonly<GatewayConfig>, deps: TelemetryDeps): Promise<Telemetry> {
    const { catalog, pools, sessions, pins, caps } = deps;
    const sources: MetricsSources = {
      health: () => deps.health?.(),
      sessions: () => sessions.size(),
      catalog: () => {
        const status = catalog.sourceStatus();
        const since = status.lastSuccessAt ?? catalog.updatedAt();
        return { tools: catalog.current().tools.size, stale: status.stale, ageSeconds: Math.max(0, (Date.now() - since) / 1000) };
      },
      *instances() {
        for (const b of catalog.current().backends.values()) {
          const pool = pools.peek(b.name);
          for (const url of b.urls) yield { backend: b.name, instance: url, cooling: pool?.isCooling(url) ?? false };
        }
      },
      ...(pins ? { pinFindings: () => pins.pending() } : {}),
      eras: () => catalog.eras(),
      ...(caps
        ? {
            *capped() {
              for (const b of catalog.current().backends.values()) if (b.maxConcurrentCalls !== undefined) yield { backend: b.name, open: caps.openCalls(b.name), max: b.maxConcurrentCalls };
            },
          }
        : {}),
    };
    const metrics = new GatewayMetrics(sources, config.metrics.processMetrics);
    const audit = await AuditLog.open(config.audit, deps.logger, () => metrics.auditDropped());
    return new Telemetry(metrics, audit, createRedactor(config.audit.redact), deps.logger, openTracing(config.tracing, deps.logger));
  }

  /** Write the buffered audit events and export the buffered spans (the SIGTERM drain comes here before the process exits). */
  async close(): Promise<void> {
    await Promise.all([this.audit.close(), this.tracing.shutdown()]);
  }

  /** A refused request: counted, and one `mcp.denial` audit event. */
  denied(d: Denial): void {
    try {
      const t = d.trail;
      this.metrics.denied(d.code, t.virtualServer ?? undefined);
      const latencyMs = round(performance.now() - t.startedAt);
      if (this.logger.isLevelEnabled('debug')) {
        this.logger.debug({ session: t.sessionId ? sessionRef(t.sessionId) : null, request: t.requestId ?? null, code: d.code, status: d.status, tool: t.tool }, 'request denied');
      }
      if (!this.audit.enabled) return;
      this.audit.emit({
        event: 'mcp.denial',
        time: new Date().toISOString(),
        session: t.sessionId ? sessionRef(t.sessionId) : null,
        request: t.requestId ?? null,
        principal: t.caller ? principalOf(t.caller) : null,
        client: clientOf(t.caller, t.session, d.request.remoteAddress ?? null),
        virtualServer: t.virtualServer ?? null,
        kind: t.kind ?? null,
        target: t.target ?? t.tool ?? null,
        tool: t.tool ?? null,
        backend: t.backend ?? null,
        arguments: t.arguments ? this.redact(t.arguments) : null,
        traceId: traceIdOf(this.tracing, traceCarrier(d.request.headers)) ?? null,
        latencyMs,
        decision: 'deny',
        code: d.code,
        reason: d.reason === null ? null : text(d.reason, 1024),
        status: d.status,
        method: t.method ?? null,
        outcome: 'denied',
      });
    } catch (err) {
      this.logger.error({ err }, 'recording a denial failed');
    }
  }

  /** A change of a pinned definition's state (drift, pending, approved, resolved): one `mcp.pin` audit event. */
  pinned(r: PinReport): void {
    if (this.audit.enabled) this.audit.emit({ event: 'mcp.pin', time: new Date().toISOString(), ...r });
  }

  /** A backend's request to the client that ended (answered, refused, denied, timed out, cancelled): one `mcp.relay` audit event. */
  relayed(r: RelayFacts): void {
    try {
      if (!this.audit.enabled) return;
      const denied = r.outcome === 'refused' || r.outcome === 'denied';
      this.audit.emit({
        event: 'mcp.relay',
        time: new Date().toISOString(),
        session: sessionRef(r.session.id),
        request: r.relayId,
        principal: r.caller ? principalOf(r.caller) : { issuer: r.session.principal.issuer, subject: r.session.principal.subject },
        client: clientOf(r.caller, r.session, null),
        virtualServer: r.session.virtualServer ?? null,
        kind: 'relay',
        target: r.method,
        tool: r.tool,
        backend: r.backend,
        arguments: null,
        traceId: null,
        latencyMs: round(r.latencyMs),
        decision: denied ? 'deny' : 'allow',
        method: r.method,
        outcome: r.outcome,
        code: r.code ?? null,
        reason: r.reason === undefined ? null : text(r.reason, 1024),
      });
    } catch (err) {
      this.logger.error({ err }, 'recording a relayed request failed');
    }
  }

  /**
   * Run a tool call through `execute` inside an `mcp.tools/call` span whose context travels to
   * the backend; when the call ends (answered, failed, cancelled or abandoned by the client) it
   * is counted, timed, and written as one `mcp.tool_call` audit event.
   */
  observeCall(call: ToolCall, execute: ToolExecutor): AsyncGenerator<JsonRpcMessage> {
    const rec = this.start(call);
    return watch(execute(rec.call), rec, (crashed) => this.finish(rec, crashed));
  }

  /**
   * The same for a request routed by URI, prompt name or completion ref (`resources/read`,
   * `prompts/get`, `completion/complete`, subscriptions): a span, and one `mcp.request` audit
   * event when it ends.
   */
  observeRequest(call: RoutedCall, execute: RoutedExecutor): AsyncGenerator<JsonRpcMessage> {
    const span = startCallSpan(this.tracing, call.trace, () => routedSpan(call));
    const rec: Running<RoutedCall> = { started: performance.now(), span, call, instance: null, response: undefined };
    rec.call = { ...call, onInstance: (url) => (rec.instance = url), ...(span.headers ? { outboundHeaders: span.headers } : {}) };
    return watch(execute(rec.call), rec, (crashed) => this.finishRequest(rec, crashed));
  }

  private finishRequest(rec: Running<RoutedCall>, crashed: boolean): void {
    try {
      const { call, span } = rec;
      const [outcome, errorCode] = settled(rec, crashed, requestOutcomeOf);
      this.metrics.request(call.request.method, call.backend.name, outcome, eraOf(call.session.protocolVersion), call.session.virtualServer);
      endCallSpan(span, outcome, errorCode, rec.instance);
      if (!this.audit.enabled) return;
      this.audit.emit({ event: 'mcp.request', method: call.request.method, kind: call.kind, target: text(call.target, 1024), tool: null, ...this.ran(rec), outcome, errorCode });
    } catch (err) {
      this.logger.error({ err }, 'recording a request failed');
    }
  }

  private start(call: ToolCall): Running<ToolCall> {
    const { tool, backend } = call;
    const span = startCallSpan(this.tracing, call.trace, () => toolCallSpan(call));
    const log = this.logger.isLevelEnabled('debug') ? this.logger.child({ session: sessionRef(call.session.id), request: call.request.id }) : undefined;
    log?.debug({ tool: tool.name, backend: backend.name }, 'tool call');
    const rec: Running<ToolCall> = { started: performance.now(), span, log, call, instance: null, response: undefined };
    rec.call = { ...call, onInstance: (url) => (rec.instance = url), ...(span.headers ? { outboundHeaders: span.headers } : {}) };
    return rec;
  }

  private finish(rec: Running<ToolCall>, crashed: boolean): void {
    try {
      const { call, span, instance } = rec;
      const { tool, backend } = call;
      const [outcome, errorCode] = settled(rec, crashed, outcomeOf);
      const ms = performance.now() - rec.started;
      // Counted by the catalog name: one tool's series stay one whatever endpoint renamed it.
      this.metrics.call(catalogNameOf(tool), backend.name, outcome, ms / 1000, eraOf(call.session.protocolVersion), call.session.virtualServer);
      endCallSpan(span, outcome, errorCode, instance);
      rec.log?.debug({ outcome, errorCode, instance, ms: round(ms) }, 'tool call ended');
      if (!this.audit.enabled) return;
      this.audit.emit({ event: 'mcp.tool_call', kind: 'tool', target: tool.name, tool: tool.name, ...this.ran(rec), outcome, errorCode, confirmation: call.confirmation?.outcome ?? null });
    } catch (err) {
      this.logger.error({ err }, 'recording a tool call failed');
    }
  }

  /** The audit fields every call that ran shares: who, in which session, where, how long, how big. */
  private ran(rec: Running<UpstreamCall>) {
    const { call, span, response, instance } = rec;
    return {
      time: new Date().toISOString(),
      session: sessionRef(call.session.id),
      request: call.request.id,
      principal: principalOf(call.caller),
      client: clientOf(call.caller, call.session, call.sourceIp ?? null),
      virtualServer: call.session.virtualServer ?? null,
      backend: call.backend.name,
      arguments: this.redact(call.arguments),
      traceId: span.traceId ?? null,
      latencyMs: round(performance.now() - rec.started),
      decision: 'allow' as const,
      instance,
      bytes: response ? Buffer.byteLength(toJson(response)) : 0,
    };
  }
}

/** How a call ended: a crash, its response as `classify` reads it, or no response (cut by a shutdown, or cancelled). */
function settled(rec: Running<UpstreamCall>, crashed: boolean, classify: (r: JsonRpcResponse) => readonly [CallOutcome, string | null]): readonly [CallOutcome, string | null] {
  if (crashed) return ['internal_error', 'GW_INTERNAL'];
  if (rec.response) return classify(rec.response);
  const reason: unknown = rec.call.abort.signal.reason;
  return reason instanceof GatewayError && reason.code === 'GW_SHUTTING_DOWN' ? ['cut', 'GW_SHUTTING_DOWN'] : ['cancelled', null];
}

/**
 * `inner`, noting its response in `rec` and calling `end` once when it ends (answered, failed,
 * cancelled or abandoned by the client). A plain iterator rather than an async generator: this
 * sits on every call, and a generator layer costs microtasks.
 */
function watch(inner: AsyncGenerator<JsonRpcMessage>, rec: { response: JsonRpcResponse | undefined }, end: (crashed: boolean) => void): AsyncGenerator<JsonRpcMessage> {
  let ended = false;
  const once = (crashed: boolean): void => {
    if (ended) return;
    ended = true;
    end(crashed);
  };
  const it: AsyncGenerator<JsonRpcMessage> = {
    next: () =>
      inner.next().then(
        (r) => {
          if (r.done) once(false);
          else if (isResponse(r.value)) rec.response = r.value;
          return r;
        },
        (err: unknown) => {
          once(true);
          throw err;
        },
      ),
    return: (value) => {
      once(false);
      return inner.return(value);
    },
    throw: (err: unknown) => {
      once(true);
      return inner.throw(err);
    },
    [Symbol.asyncIterator]: () => it,
  };
  return it;
}

/** One running call or routed request, from {@link Telemetry.observeCall} or {@link Telemetry.observeRequest} to its end. */
interface Running<C extends UpstreamCall> {
  readonly started: number;
  readonly span: CallSpan;
  readonly log?: Logger | undefined;
  /** The call as the executor sees it (with the instance hook and trace headers). */
  call: C;
  instance: string | null;
  response: JsonRpcResponse | undefined;
}

/** How a call ended, from its response: the tool's own error, or the gateway's upstream error codes. */
function outcomeOf(r: JsonRpcResponse): readonly [CallOutcome, string | null] {
  if ('error' in r) {
    const code = (r.error.data as { code?: unknown } | undefined)?.code;
    if (code === BUSY) return ['busy', code];
    return ['upstream_error', typeof code === 'string' ? code : `jsonrpc:${r.error.code}`];
  }
  if (r.result.isError !== true) return ['ok', null];
  const code = (r.result._meta as Record<string, unknown> | undefined)?.[ERROR_META_KEY];
  if (typeof code !== 'string') return ['tool_error', null];
  if (code === TIMEOUT) return ['timeout', code];
  if (code === BUSY) return ['busy', code];
  return [UPSTREAM_FAILURES.has(code) ? 'upstream_error' : 'tool_error', code];
}

/** How a routed request ended: the gateway's upstream error codes, or the backend's own JSON-RPC error. */
function requestOutcomeOf(r: JsonRpcResponse): readonly [CallOutcome, string | null] {
  if (!('error' in r)) return ['ok', null];
  const code = (r.error.data as { code?: unknown } | undefined)?.code;
  if (code === TIMEOUT) return ['timeout', code];
  if (code === BUSY) return ['busy', code];
  // The gateway's own failures on the way to the backend, not an answer of the backend's.
  if (typeof code === 'string' && (code.startsWith('GW_UPSTREAM_') || code.startsWith('GW_TOKEN_EXCHANGE_'))) return ['upstream_error', code];
  return ['backend_error', typeof code === 'string' ? code : `jsonrpc:${r.error.code}`];
}

function principalOf(caller: Caller): AuditPrincipal {
  return { issuer: caller.principal.issuer, subject: caller.principal.subject };
}

function clientOf(caller: Caller | undefined, session: SessionRecord | undefined, ip: string | null): AuditClient {
  const info = session?.clientInfo;
  return {
    id: caller?.clientId ?? null,
    name: typeof info?.name === 'string' ? text(info.name, MAX_TEXT) : null,
    version: typeof info?.version === 'string' ? text(info.version, MAX_TEXT) : null,
    ip,
    era: session ? eraOf(session.protocolVersion) : null,
  };
}

function text(s: string, max: number): string {
  return s.length > max ? `${s.slice(0, max)}…` : s;
}

function round(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}

/** What {@link Telemetry.relayed} records of one backend request relayed to a client. */
export interface RelayFacts {
  readonly session: SessionRecord;
  readonly caller?: Caller | undefined;
  readonly relayId: string | null;
  readonly method: string;
  readonly backend: string;
  readonly tool: string | null;
  readonly outcome: RelayOutcome;
  readonly code?: string | undefined;
  readonly reason?: string | undefined;
  readonly latencyMs: number;
}
