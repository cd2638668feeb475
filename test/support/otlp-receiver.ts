import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import protobuf from 'protobufjs';

/**
 * The part of OTLP's trace protocol a receiver needs to read spans (opentelemetry-proto,
 * `collector/trace/v1`, `trace/v1`, `common/v1`, `resource/v1`; field numbers as published).
 * Fields left out are skipped by the decoder, as protobuf does with unknown fields.
 */
const OTLP_TRACES = `
syntax = "proto3";
package otlp;
message ExportTraceServiceRequest { repeated ResourceSpans resource_spans = 1; }
message ResourceSpans { Resource resource = 1; repeated ScopeSpans scope_spans = 2; }
message Resource { repeated KeyValue attributes = 1; }
message ScopeSpans { InstrumentationScope scope = 1; repeated Span spans = 2; }
message InstrumentationScope { string name = 1; string version = 2; }
message Span {
  bytes trace_id = 1;
  bytes span_id = 2;
  string trace_state = 3;
  bytes parent_span_id = 4;
  string name = 5;
  SpanKind kind = 6;
  fixed64 start_time_unix_nano = 7;
  fixed64 end_time_unix_nano = 8;
  repeated KeyValue attributes = 9;
  Status status = 15;
}
enum SpanKind { SPAN_KIND_UNSPECIFIED = 0; SPAN_KIND_INTERNAL = 1; SPAN_KIND_SERVER = 2; SPAN_KIND_CLIENT = 3; SPAN_KIND_PRODUCER = 4; SPAN_KIND_CONSUMER = 5; }
message Status { string message = 2; StatusCode code = 3; }
enum StatusCode { STATUS_CODE_UNSET = 0; STATUS_CODE_OK = 1; STATUS_CODE_ERROR = 2; }
message KeyValue { string key = 1; AnyValue value = 2; }
message AnyValue {
  oneof value { string string_value = 1; bool bool_value = 2; int64 int_value = 3; double double_value = 4; ArrayValue array_value = 5; bytes bytes_value = 7; }
}
message ArrayValue { repeated AnyValue values = 1; }
`;

const Request = protobuf.parse(OTLP_TRACES, { keepCase: false }).root.lookupType('otlp.ExportTraceServiceRequest');

/** One span as received, with ids in hex and attributes as plain values. */
export interface ReceivedSpan {
  readonly name: string;
  readonly kind: 'internal' | 'server' | 'client' | 'producer' | 'consumer' | 'unspecified';
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly attributes: Record<string, unknown>;
  readonly status: { code: 'unset' | 'ok' | 'error'; message: string };
  readonly resource: Record<string, unknown>;
  readonly scope: string;
}

export interface OtlpReceiver {
  /** The OTLP/HTTP base URL (spans are posted to `<url>/v1/traces`). */
  readonly url: string;
  readonly spans: ReceivedSpan[];
  /** The headers of every export request. */
  readonly exports: IncomingHttpHeaders[];
  close(): Promise<void>;
}

/** An OTLP/HTTP trace receiver (binary protobuf) on a free loopback port. */
export async function startOtlpReceiver(): Promise<OtlpReceiver> {
  const spans: ReceivedSpan[] = [];
  const exports: IncomingHttpHeaders[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/traces' || req.headers['content-type'] !== 'application/x-protobuf') {
        res.writeHead(415).end();
        return;
      }
      exports.push(req.headers);
      spans.push(...decode(Buffer.concat(chunks)));
      // An empty ExportTraceServiceResponse: everything accepted.
      res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    spans,
    exports,
    close: () => new Promise((r) => server.close(() => r())),
  };
}

const KINDS = ['unspecified', 'internal', 'server', 'client', 'producer', 'consumer'] as const;
const STATUS = ['unset', 'ok', 'error'] as const;

function decode(body: Buffer): ReceivedSpan[] {
  const msg = Request.toObject(Request.decode(body), { longs: Number, enums: Number, bytes: Buffer, defaults: true, oneofs: true }) as any;
  const out: ReceivedSpan[] = [];
  for (const rs of msg.resourceSpans) {
    const resource = attributes(rs.resource?.attributes ?? []);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        out.push({
          name: s.name,
          kind: KINDS[s.kind] ?? 'unspecified',
          traceId: hex(s.traceId),
          spanId: hex(s.spanId),
          parentSpanId: s.parentSpanId.length > 0 ? hex(s.parentSpanId) : undefined,
          attributes: attributes(s.attributes),
          status: { code: STATUS[s.status?.code ?? 0] ?? 'unset', message: s.status?.message ?? '' },
          resource,
          scope: ss.scope?.name ?? '',
        });
      }
    }
  }
  return out;
}

function hex(b: Buffer | Uint8Array): string {
  return Buffer.from(b).toString('hex');
}

function attributes(kvs: Array<{ key: string; value?: Record<string, unknown> }>): Record<string, unknown> {
  return Object.fromEntries(kvs.map((kv) => [kv.key, value(kv.value)]));
}

/** An AnyValue: the member its oneof names (`oneofs: true` sets `value` to that member's name). */
function value(v: Record<string, any> | undefined): unknown {
  if (!v?.value) return undefined;
  return v.value === 'arrayValue' ? (v.arrayValue?.values ?? []).map(value) : v[v.value];
}
