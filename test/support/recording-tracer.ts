import { randomBytes } from 'node:crypto';
import {
  trace,
  TraceFlags,
  type Attributes,
  type AttributeValue,
  type Context,
  type Span,
  type SpanContext,
  type SpanKind,
  type SpanOptions,
  type SpanStatus,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';

/** A span as the recording tracer saw it. */
export interface RecordedSpan {
  readonly name: string;
  readonly kind: SpanKind | undefined;
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Attributes;
  status: SpanStatus | undefined;
  ended: boolean;
}

class RecordingSpan implements Span {
  constructor(
    private readonly sc: SpanContext,
    readonly record: RecordedSpan,
  ) {}
  spanContext(): SpanContext {
    return this.sc;
  }
  setAttribute(key: string, value: AttributeValue): this {
    (this.record.attributes as Record<string, AttributeValue>)[key] = value;
    return this;
  }
  setAttributes(attributes: Attributes): this {
    Object.assign(this.record.attributes, attributes);
    return this;
  }
  addEvent(): this {
    return this;
  }
  addLink(): this {
    return this;
  }
  addLinks(): this {
    return this;
  }
  setStatus(status: SpanStatus): this {
    this.record.status = status;
    return this;
  }
  updateName(): this {
    return this;
  }
  end(): void {
    this.record.ended = true;
  }
  isRecording(): boolean {
    return !this.record.ended;
  }
  recordException(): void {}
}

/**
 * The smallest tracer an OpenTelemetry SDK would provide: it records spans in memory with real
 * ids and parentage, so tests can check what the gateway's spans look like without an SDK.
 */
export class RecordingTracerProvider implements TracerProvider {
  readonly spans: RecordedSpan[] = [];

  getTracer(): Tracer {
    const spans = this.spans;
    return {
      startSpan(name: string, options: SpanOptions = {}, context?: Context): Span {
        const parent = context ? trace.getSpanContext(context) : undefined;
        const sc: SpanContext = {
          traceId: parent?.traceId ?? randomBytes(16).toString('hex'),
          spanId: randomBytes(8).toString('hex'),
          traceFlags: TraceFlags.SAMPLED,
        };
        const record: RecordedSpan = { name, kind: options.kind, traceId: sc.traceId, spanId: sc.spanId, parentSpanId: parent?.spanId, attributes: { ...options.attributes }, status: undefined, ended: false };
        spans.push(record);
        return new RecordingSpan(sc, record);
      },
      startActiveSpan(...args: unknown[]): unknown {
        const fn = args[args.length - 1] as (span: Span) => unknown;
        return fn(this.startSpan(args[0] as string, typeof args[1] === 'object' ? (args[1] as SpanOptions) : {}));
      },
    } as Tracer;
  }
}
