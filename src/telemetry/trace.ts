import {
  context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  isSpanContextValid,
  propagation,
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
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { ATTR_ERROR_TYPE, ATTR_SERVER_ADDRESS, ATTR_SERVER_PORT } from '@opentelemetry/semantic-conventions';
import { ATTR_GATEWAY_INSTANCE, ATTR_GATEWAY_OUTCOME, ATTR_MCP_METHOD_NAME, ERROR_TYPE_TOOL_ERROR } from './semconv.js';
import type { Tracing } from './tracing.js';

/** Trace headers of a request (`traceparent`, `tracestate`, or the fields of a registered propagator). */
export type TraceCarrier = Readonly<Record<string, string>>;

const w3c = new W3CTraceContextPropagator();

/**
 * W3C Trace Context (traceparent/tracestate) by OpenTelemetry's propagator, which drops a
 * malformed `traceparent`; one with all-zero ids, which the W3C specification calls invalid, is
 * dropped too rather than continued.
 */
export const w3cTraceContext: TextMapPropagator = {
  inject: (ctx: Context, carrier: unknown, setter: TextMapSetter) => w3c.inject(ctx, carrier, setter),
  extract(ctx: Context, carrier: unknown, getter: TextMapGetter): Context {
    const out = w3c.extract(ctx, carrier, getter);
    const sc = trace.getSpanContext(out);
    return sc && isSpanContextValid(sc) ? out : ctx;
  },
  fields: () => w3c.fields(),
};

/** The trace headers among a request's (lower-case) headers: W3C's and a registered propagator's. Undefined when there are none. */
export function traceCarrier(headers: Readonly<Record<string, string | undefined>>): TraceCarrier | undefined {
  // On every routed call: no set of the two lists is built, a field both name is simply read twice.
  let out: Record<string, string> | undefined;
  for (const fields of [W3C_FIELDS, propagation.fields()]) {
    for (const field of fields) {
      const v = headers[field];
      if (v !== undefined) (out ??= {})[field] = v;
    }
  }
  return out;
}

const W3C_FIELDS: readonly string[] = w3cTraceContext.fields();

/** A call's spans (the gateway serving the client, and calling the backend) and the headers that carry it on. */
export interface CallSpan {
  /** `SERVER` (or `INTERNAL` under an HTTP server span): the request as the client made it. Absent while nothing records. */
  readonly span: Span | undefined;
  /** `CLIENT`, a child of `span`: the gateway's request to the backend, which the backend's span continues. */
  readonly client: Span | undefined;
  /** Headers for the call's outbound requests; undefined when there is no trace to continue. */
  readonly headers: Record<string, string> | undefined;
  readonly traceId: string | undefined;
}

/** What the spans of one call say about it. */
export interface CallSpanFacts {
  /** `mcp.method.name`. */
  readonly method: string;
  /** The low-cardinality target for the span names (a tool or prompt name): `{method} {target}`, else `{method}`. */
  readonly target?: string | undefined;
  /** The backend's own name for the target, for the client span's name. */
  readonly upstreamTarget?: string | undefined;
  /** Attributes of both spans (MCP semantic conventions). */
  readonly attributes: Attributes;
}

/**
 * Start the spans of a call: a child of the active span (HTTP auto-instrumentation), else of the
 * trace context the request carried, else a new root. Without an SDK recording, no span is made
 * and the caller's valid trace context is passed on unchanged, as the W3C specification asks of a
 * component that does not take part in the trace.
 */
export function startCallSpan(tracing: Tracing, carrier: TraceCarrier | undefined, describe: () => CallSpanFacts): CallSpan {
  const { propagator, tracer } = tracing;
  // What the spans say is only worked out when there are spans: most gateways record none.
  if (!tracing.records()) return forwardOnly(propagator, carrier);
  const facts = describe();
  const active = context.active();
  const local = trace.getSpan(active) !== undefined;
  const parent = local ? active : carrier ? propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter) : ROOT_CONTEXT;
  const attributes: Attributes = { [ATTR_MCP_METHOD_NAME]: facts.method, ...facts.attributes };
  const span = tracer.startSpan(named(facts.method, facts.target), { kind: local ? SpanKind.INTERNAL : SpanKind.SERVER, attributes }, parent);
  const sc = span.spanContext();
  if (!isSpanContextValid(sc)) return { span, client: undefined, headers: undefined, traceId: undefined };
  const inner = trace.setSpan(parent, span);
  const client = tracer.startSpan(named(facts.method, facts.upstreamTarget ?? facts.target), { kind: SpanKind.CLIENT, attributes }, inner);
  const headers: Record<string, string> = {};
  propagator.inject(trace.setSpan(inner, client), headers, defaultTextMapSetter);
  return { span, client, headers, traceId: sc.traceId };
}

function named(method: string, target: string | undefined): string {
  return target ? `${method} ${target}` : method;
}

/** The no-SDK path: forward the request's trace context as it came, if it is valid. */
function forwardOnly(propagator: TextMapPropagator, carrier: TraceCarrier | undefined): CallSpan {
  if (!carrier) return NO_SPAN;
  const ctx = propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter);
  const sc = trace.getSpanContext(ctx);
  if (!sc || !isSpanContextValid(sc)) return NO_SPAN;
  const headers: Record<string, string> = {};
  propagator.inject(ctx, headers, defaultTextMapSetter);
  return { span: undefined, client: undefined, headers, traceId: sc.traceId };
}

const NO_SPAN: CallSpan = Object.freeze({ span: undefined, client: undefined, headers: undefined, traceId: undefined });

/** Outcomes that mark the spans as failed; a tool's `isError` answer too (`error.type` `tool_error`), as the MCP conventions ask. */
const FAILED = new Set(['upstream_error', 'busy', 'backend_error', 'timeout', 'internal_error', 'tool_error']);

/** End a call's spans with how it ended, and the backend instance that served it (or last failed it). */
export function endCallSpan(s: CallSpan, outcome: string, errorCode: string | null, instance: string | null): void {
  if (!s.span) return;
  const failed = FAILED.has(outcome);
  const attributes: Attributes = { [ATTR_GATEWAY_OUTCOME]: outcome };
  if (failed) attributes[ATTR_ERROR_TYPE] = outcome === 'tool_error' ? ERROR_TYPE_TOOL_ERROR : (errorCode ?? outcome);
  for (const span of [s.client, s.span]) {
    if (!span) continue;
    span.setAttributes(attributes);
    if (failed) span.setStatus({ code: SpanStatusCode.ERROR, message: outcome });
  }
  if (instance) {
    s.span.setAttribute(ATTR_GATEWAY_INSTANCE, instance);
    s.client?.setAttributes({ [ATTR_GATEWAY_INSTANCE]: instance, ...serverAddress(instance) });
  }
  s.client?.end();
  s.span.end();
}

/** `server.address` and `server.port` of a backend instance URL. */
function serverAddress(instance: string): Attributes {
  try {
    const u = new URL(instance);
    const port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    return { [ATTR_SERVER_ADDRESS]: u.hostname.replace(/^\[|\]$/g, ''), [ATTR_SERVER_PORT]: port };
  } catch {
    return {};
  }
}

/** The trace id of a request's trace context, for audit events of requests that never got a span. */
export function traceIdOf(tracing: Tracing, carrier: TraceCarrier | undefined): string | undefined {
  if (!carrier) return undefined;
  const sc = trace.getSpanContext(tracing.propagator.extract(ROOT_CONTEXT, carrier, defaultTextMapGetter));
  return sc && isSpanContextValid(sc) ? sc.traceId : undefined;
}
