/**
 * Playing Envoy on an ext_proc stream: the messages Envoy sends in the configured mode (request
 * headers, the buffered body, the response headers) and readers for the answers.
 */
import { credentials, type ClientDuplexStream } from '@grpc/grpc-js';
import { loadExtProcProtos } from '../../src/extproc/protos.js';

export type ExtProcClient = InstanceType<ReturnType<typeof loadExtProcProtos>['Client']>;

/** A gRPC client of the ext_proc service on 127.0.0.1:`port`, as Envoy's `extproc` cluster is. */
export function extProcClient(port: number): ExtProcClient {
  const { Client } = loadExtProcProtos();
  return new Client(`127.0.0.1:${port}`, credentials.createInsecure());
}

/** One ext_proc stream: send a message, get the next answer. */
export function openStream(client: unknown): { send(msg: unknown): Promise<any>; push(msg: unknown): void; next(): Promise<any>; close(): void } {
  const call = (client as any).Process() as ClientDuplexStream<unknown, any>;
  const answers: any[] = [];
  const waiters: Array<(m: any) => void> = [];
  call.on('data', (m: any) => (waiters.length > 0 ? waiters.shift()!(m) : answers.push(m)));
  call.on('error', () => undefined);
  const next = (): Promise<any> => (answers.length > 0 ? Promise.resolve(answers.shift()) : new Promise((r) => waiters.push(r)));
  return {
    send(msg) {
      call.write(msg);
      return next();
    },
    /** Send without waiting for an answer, as Envoy does in the pipelined mode (envoy/envoy.yaml). */
    push: (msg) => void call.write(msg),
    /** The next answer, in the order the server wrote them. */
    next,
    close: () => call.end(),
  };
}

export function headers(method: string, extra: Record<string, string> = {}, endOfStream = false): unknown {
  const all: Record<string, string> = {
    ':method': method,
    ':path': '/mcp',
    ':authority': 'localhost:10000',
    'content-type': 'application/json',
    accept: 'application/json, text/event-stream',
    ...extra,
  };
  const list = Object.entries(all).map(([key, v]) => ({ key, raw_value: Buffer.from(v) }));
  return { request_headers: { headers: { headers: list }, end_of_stream: endOfStream } };
}

/** The headers message as envoy/envoy.yaml's pipelined mode sends it: with the marker its mcp.strip_internal adds. */
export function pipelinedHeaders(method: string, extra: Record<string, string>): unknown {
  return headers(method, { ...extra, 'x-mcp-gateway-extproc-pipelined': 'true' });
}

/** One streamed chunk of a body (STREAMED mode sends the body in pieces). */
export function chunk(text: string, endOfStream: boolean): unknown {
  return { request_body: { body: Buffer.from(text), end_of_stream: endOfStream } };
}

export function body(json: unknown): unknown {
  return { request_body: { body: Buffer.from(typeof json === 'string' ? json : JSON.stringify(json)), end_of_stream: true } };
}

export const setHeaders = (mutation: any): Record<string, string> =>
  Object.fromEntries((mutation?.set_headers ?? []).map((h: any) => [h.header.key, Buffer.from(h.header.raw_value ?? '').toString() || h.header.value]));

/** What an answer left in the `mcp.gateway` dynamic metadata, which envoy.yaml's backend routes copy onto a routed call's answer. */
export const carriedMetadata = (res: any): Record<string, string> =>
  Object.fromEntries(Object.entries(res?.dynamic_metadata?.fields?.['mcp.gateway']?.structValue?.fields ?? {}).map(([k, v]: [string, any]) => [k, v.stringValue]));

export const INITIALIZE = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'scripted', version: '1' } } };

/** The upstream answer's headers, as Envoy sends them in the response headers phase. */
export function responseHeaders(status: number, extra: Record<string, string> = {}): unknown {
  const list = Object.entries({ ':status': String(status), 'content-type': 'text/event-stream', ...extra }).map(([key, v]) => ({ key, raw_value: Buffer.from(v) }));
  return { response_headers: { headers: { headers: list }, end_of_stream: false } };
}
