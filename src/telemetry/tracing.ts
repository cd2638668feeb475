import { propagation, trace, ProxyTracerProvider, type TextMapPropagator, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, ParentBasedSampler, TraceIdRatioBasedSampler } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from 'pino';
import type { GatewayConfig } from '../config/schema.js';
import { VERSION } from '../version.js';
import { settleWithin } from '../wait.js';
import { w3cTraceContext } from './trace.js';

/** How one gateway core traces: where its spans go, and how trace context crosses its edges. */
export interface Tracing {
  readonly tracer: Tracer;
  /** Extracts the caller's trace context and injects the gateway's into backend requests. */
  readonly propagator: TextMapPropagator;
  /** Whether spans are recorded now (else the gateway only forwards the caller's trace context). */
  records(): boolean;
  /** Export what is buffered and stop; bounded, so a collector that is down cannot hold a shutdown. */
  shutdown(): Promise<void>;
}

/**
 * The tracing of `tracing` in the configuration. With `otlp`, the gateway's own SDK: a tracer
 * provider of this core only (not registered globally, so several cores in one process and a
 * user's own SDK never clash), sampling new traces at `samplingRatio` and following a caller's
 * sampling decision, exporting in batches over OTLP/HTTP protobuf, W3C propagation. Without it,
 * whatever SDK the process registered (a preloaded module), checked per call since it may come
 * later; W3C propagation unless that SDK registered another propagator.
 */
export function openTracing(cfg: GatewayConfig['tracing'], logger: Logger): Tracing {
  if (!cfg.otlp) return globalTracing();
  const { endpoint, headers, timeoutMs } = cfg.otlp;
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces`, headers, timeoutMillis: timeoutMs });
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: cfg.serviceName, [ATTR_SERVICE_VERSION]: VERSION }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(cfg.samplingRatio) }),
    spanProcessors: [new BatchSpanProcessor(exporter)],
  });
  logger.info({ endpoint, samplingRatio: cfg.samplingRatio }, 'exporting traces over OTLP');
  return {
    tracer: provider.getTracer('mcp-gateway', VERSION),
    propagator: w3cTraceContext,
    records: () => true,
    shutdown: () =>
      settleWithin(
        provider.shutdown().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'flushing traces failed')),
        timeoutMs,
      ),
  };
}

/** What the API's tracer provider delegates to while no SDK is registered. */
const NO_SDK = new ProxyTracerProvider().getDelegate();

function globalTracing(): Tracing {
  const propagator: TextMapPropagator = {
    inject: (ctx, carrier, setter) => active().inject(ctx, carrier, setter),
    extract: (ctx, carrier, getter) => active().extract(ctx, carrier, getter),
    fields: () => active().fields(),
  };
  return {
    tracer: trace.getTracer('mcp-gateway', VERSION),
    propagator,
    records: () => {
      const p = trace.getTracerProvider();
      return !(p instanceof ProxyTracerProvider) || p.getDelegate() !== NO_SDK;
    },
    shutdown: async () => undefined,
  };
}

/** The registered global propagator, or W3C Trace Context when none is (the API's default does nothing). */
function active(): TextMapPropagator {
  return propagation.fields().length > 0 ? propagation : w3cTraceContext;
}
