/**
 * A throwaway OpenTelemetry Collector (built from scripts/otelcol: the OTLP receiver and the
 * debug exporter) on a free loopback port, so trace tests export to a real OTLP endpoint and read
 * back what the collector itself decoded.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { otelcolBin } from './components.js';
import { freePort } from './ports.js';
import { startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

/** A span as the collector's debug exporter printed it. */
export interface CollectedSpan {
  readonly name: string;
  /** `Server`, `Client`, `Internal`… as the collector names them. */
  readonly kind: string;
  readonly traceId: string;
  readonly spanId: string;
  /** Empty for a root span. */
  readonly parentId: string;
  readonly status: string;
  /** Values as printed: `Str(tools/call)` becomes `tools/call`, `Int(80)` becomes `80`. */
  readonly attributes: Readonly<Record<string, string>>;
  /** The attributes of the resource the span came with (`service.name`…). */
  readonly resource: Readonly<Record<string, string>>;
}

export interface OtelcolHandle {
  /** The OTLP/HTTP base URL (`<url>/v1/traces` takes spans). */
  readonly url: string;
  /** Every span received so far. */
  spans(): CollectedSpan[];
  stop(): Promise<void>;
}

/** Starts the collector; ready once it logs that it runs. Its log goes to a file (the debug exporter prints many lines per span). */
export async function startOtelcol(opts: { timeoutMs?: number } = {}): Promise<OtelcolHandle> {
  const port = await freePort();
  const dir = makeTempDir('otelcol');
  const log = join(dir, 'collector.log');
  const config = join(dir, 'collector.yaml');
  writeFileSync(
    config,
    `receivers:
  otlp:
    protocols:
      http:
        endpoint: 127.0.0.1:${port}
exporters:
  debug:
    verbosity: detailed
service:
  telemetry:
    metrics:
      level: none
    logs:
      encoding: console
      output_paths: [${JSON.stringify(log)}]
  pipelines:
    traces:
      receivers: [otlp]
      exporters: [debug]
`,
  );
  const read = (): string => (existsSync(log) ? readFileSync(log, 'utf8') : '');
  const handle = await startProcess({
    name: 'otelcol',
    cmd: otelcolBin(),
    args: ['--config', `file:${config}`],
    timeoutMs: opts.timeoutMs ?? 30_000,
    ready: async () => read().includes('Everything is ready'),
  });
  return {
    url: `http://127.0.0.1:${port}`,
    spans: () => parseDebugOutput(read()),
    stop: async () => {
      await handle.stop();
      removeDir(dir);
    },
  };
}

/** The spans in the debug exporter's detailed output: `ResourceSpans #n` blocks holding `Span #n` blocks. */
export function parseDebugOutput(text: string): CollectedSpan[] {
  const out: CollectedSpan[] = [];
  for (const rs of text.split(/^.*ResourceSpans #\d+$/m).slice(1)) {
    const [head = '', ...spans] = rs.split(/^Span #\d+$/m);
    const resource = attributesOf(head.split(/^Resource attributes:$/m)[1]?.split(/^ScopeSpans #/m)[0] ?? '');
    for (const block of spans) {
      const field = (name: string): string => new RegExp(`^\\s+${name}\\s*: ?(.*)$`, 'm').exec(block)?.[1]?.trim() ?? '';
      out.push({
        name: field('Name'),
        kind: field('Kind'),
        traceId: field('Trace ID'),
        spanId: field('ID'),
        parentId: field('Parent ID'),
        status: field('Status code'),
        attributes: attributesOf(block.split(/^Attributes:$/m)[1] ?? ''),
        resource,
      });
    }
  }
  return out;
}

function attributesOf(section: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const m of section.matchAll(/^\s+-> ([^:]+): \w+\((.*)\)$/gm)) out[m[1]!] = m[2]!;
  return out;
}
