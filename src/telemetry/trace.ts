import {
  context,
  createTraceState,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  propagation,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Span,
  type TextMapGetter,
  type TextMapPropagator,
  type TextMapSetter,
} from '@opentelemetry/api';
import { VERSION } from '../version.js';

/** Trace headers of a request (`traceparent`, `tracestate`, or the fields of a registered propagator). */
export type TraceCarrier = Readonly<Record<string, string>>;

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;
const ZERO_TRACE = '0'.repeat(32);
const ZERO_SPAN = '0'.repeat(16);
/** Shared, never mutated. */
const W3C_FIELDS = ['traceparent', 'tracestate'];

/**
 * W3C Trace Context (traceparent/tracestate), used while no OpenTelemetry SDK has registered a
 * propagator. Without an SDK the tracer records nothing and its span keeps the caller's span
 * context, so injecting it forwards the incoming `traceparent` unchanged: the backend's span
 * becomes a child of the client's span, and no span id is invented that nobody records.
 */
export const w3cTraceContext: TextMapPropagator = {
  inject(ctx: Context, carrier: unknown, setter: TextMapSetter): void {
    const sc = trace.getSpanContext(ctx);
    if (!sc || !isSpanContextValid(sc)) return;
    setter.set(carrier, 'traceparent', `00-${sc.traceId}-${sc.spanId}-${(sc.traceFlags & 0xff).toString(16).padStart(2, '0')}`);
    const state = sc.traceState?.serialize();
    if (state) setter.set(carrier, 'tracestate', state);
  },
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const header = first(getter.get(carrier, 'traceparent'));
    const m = header ? TRACEPARENT.exec(header.trim()) : null;
    if (!m) return ctx;
    const [, version, traceId, spanId, flags, rest] = m as unknown as [string, string, string, string, string, string | undefined];
    // Version ff is invalid; version 00 has exactly four fields; all-zero ids are invalid.
    if (version === 'ff' || (version === '00' && rest !== undefined) || traceId === ZERO_TRACE || spanId === ZERO_SPAN) return ctx;
    const state = first(getter.get(carrier, 'tracestate'));
    return trace.setSpanContext(ctx, {
      traceId,
      spanId,
      traceFlags: parseInt(flags, 16) & 0x01,
      isRemote: true,
      ...(state ? { traceState: createTraceState(state) } : {}),
    });
  },
  fields: () => W3C_FIELDS,
};

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

/** The registered global propagator, or W3C Trace Context when none is (the API's default does nothing). */
function activePropagator(): TextMapPropagator {
  return propagation.fields().length > 0 ? propagation : w3cTraceContext;
}

/** The trace headers among a request's (lower-case) headers; undefined when there are none. */
export function traceCarrier(headers: Readonly<Record<string, string | undefined>>): TraceCarrier | undefined {
  let out: Record<string, string> | undefined;
  for (const field of activePropagator().fields()) {
    const v = headers[field];
    if (v !== undefined) (out ??= {})[field] = v;
  }
  return out;
}

const tracer = trace.getTracer('mcp-gateway', VERSION);
/** What the API's tracer provider delegates to while no SDK is registered. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

/** Whether an OpenTelemetry SDK registered a tracer provider (checked per call: it may come later). */
function sdkRegistered(): boolean {
  const p = trace.getTracerProvider();
  return !(p instanceof ProxyTracerProvider) || p.getDelegate() !== NO_SDK;
}

/** A `tools/call` span and the headers that carry it to the backend. */
export interface CallSpan {
  /** Absent while no SDK is registered. */
  readonly span: Span | undefined;
  /** Headers for the call's outbound requests; undefined when there is no trace to continue. */
  readonly headers: Record<string, string> | undefined;
  readonly traceId: string | undefined;
}

/**
 * Start the span of a call, `mcp.<mcp.method.name>` (`mcp.tools/call`, `mcp.resources/read`…):
 * a child of the active span (HTTP auto-instrumentation), else of the trace context the request
 * carried, else a new root (only an SDK makes one).
 */
export function startCallSpan(carrier: TraceCarrier | undefined, attributes: Attributes): CallSpan {
  // Without an SDK the span would record nothing: skip it, and just pass a valid trace context on.
  if (!sdkRegistered()) return forwardOnly(carrier);
  const propagator = activePropagator();
  const active = context.active();
  const local = trace.getSpan(active) !== undefined;
  const parent = local ? active : carrier ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
  const span = tracer.startSpan(`mcp.${String(attributes['mcp.method.name'] ?? 'tools/call')}`, { kind: local ? SpanKind.INTERNAL : SpanKind.SERVER, attributes }, parent);
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return { span, headers: undefined, traceId: undefined };
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(parent, span), headers, defaultTextMapSetter);
  return { span, headers, traceId: sc.traceId };
}

/** The no-SDK path: forward the request's trace context as it came, if it is valid. */
function forwardOnly(carrier: TraceCarrier | undefined): CallSpan {
  if (!carrier) return NO_SPAN;
  const propagator = activePropagator();
  const ctx = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return NO_SPAN;
  const headers: Record<string, string> = {};
  propagator.inject(ctx, headers, defaultTextMapSetter);
  return { span: undefined, headers, traceId: sc.traceId };
}

const NO_SPAN: CallSpan = Object.freeze({ span: undefined, headers: undefined, traceId: undefined });

/** Outcomes that mark the span as failed (a tool's own `isError` is an answer, not a failure). */
const FAILED = new Set(['upstream_error', 'timeout', 'internal_error']);

export function endCallSpan(s: CallSpan, outcome: string, attributes: Attributes): void {
  if (!s.span) return;
  s.span.setAttributes({ ...attributes, 'mcp.gateway.outcome': outcome });
  if (FAILED.has(outcome)) s.span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  s.span.end();
}

/** The trace id of a request's trace context, for audit events of requests that never got a span. */
export function traceIdOf(carrier: TraceCarrier | undefined): string | undefined {
  if (!carrier) return undefined;
  const sc = trace.getSpanContext(activePropagator().extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}
