/**
 * One processor per ext_proc stream, that is per HTTP request (Envoy opens a stream for each),
 * with a method per phase. Envoy is configured (envoy/envoy.yaml `processing_mode`) to send only
 * the request headers and the buffered request body; other phases are answered with a plain
 * CONTINUE in case a configuration sends them anyway.
 */
import type { Logger } from 'pino';
import type { Decision, GatewayRequest } from '../admission/decision.js';
import { originMatcher } from '../admission/origin.js';
import { wireError } from '../errors.js';
import type { HttpBody, HttpHeaders, ProcessingRequest, ProcessingResponse } from './messages.js';
import { decisionMutation, immediate, readHeaders, routeTo, sourceAddress, stripInternal, toGatewayRequest, BROKER_CLUSTER, type ReceivedHeaders } from './translate.js';

/** What a processor needs from the core: admission only (no Envoy type crosses this line). */
export interface ProcessorDeps {
  readonly decide: (req: GatewayRequest) => Promise<Decision>;
  /** The MCP endpoint path (`server.path`); other paths go to the broker without admission. */
  readonly mcpPath: string;
  /** `server.allowedOrigins`: answers Envoy gives itself carry the CORS headers the broker would add. */
  readonly allowedOrigins?: readonly string[];
  readonly logger: Logger;
}

/** Same exposure as the standalone server's answers (src/standalone/server.ts). */
const CORS_EXPOSE_HEADERS = 'mcp-session-id, www-authenticate';

export class RequestProcessor {
  private received: ReceivedHeaders | undefined;
  private remoteAddress: string | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly originAllowed: (origin: string | undefined) => boolean;

  constructor(private readonly deps: ProcessorDeps) {
    this.originAllowed = originMatcher(deps.allowedOrigins ?? []);
  }

  /** Dispatch one message of the stream to its phase. */
  async process(req: ProcessingRequest): Promise<ProcessingResponse> {
    this.remoteAddress ??= sourceAddress(req);
    switch (req.request) {
      case 'request_headers':
        return this.requestHeaders(req.request_headers ?? {});
      case 'request_body':
        return this.requestBody(req.request_body ?? {});
      case 'request_trailers':
        return { request_trailers: {} };
      case 'response_headers':
        return { response_headers: { response: {} } };
      case 'response_body':
        return { response_body: { response: {} } };
      case 'response_trailers':
        return { response_trailers: {} };
      default:
        return immediate(500, wireError('GW_INTERNAL', null, 'unexpected ext_proc message'));
    }
  }

  /** Decide now when there is no body; otherwise strip internal headers and wait for the body. */
  async requestHeaders(h: HttpHeaders): Promise<ProcessingResponse> {
    const received = readHeaders(h);
    this.received = received;
    if (this.bypassesAdmission(received)) return { request_headers: { response: routeTo(BROKER_CLUSTER, received.internal) } };
    if (!h.end_of_stream) return { request_headers: { response: { status: 'CONTINUE', header_mutation: stripInternal(received.internal) } } };
    const method = received.pseudo[':method'];
    return this.decide('request_headers', method === 'POST' ? Buffer.alloc(0) : undefined);
  }

  /** The whole body (BUFFERED mode sends it in one message); chunks are gathered in case of streaming. */
  async requestBody(b: HttpBody): Promise<ProcessingResponse> {
    if (b.body && b.body.length > 0) this.chunks.push(b.body);
    if (!b.end_of_stream) return { request_body: { response: {} } };
    if (!this.received) return immediate(500, wireError('GW_INTERNAL', null, 'body before headers'));
    if (this.bypassesAdmission(this.received)) return { request_body: { response: {} } };
    return this.decide('request_body', Buffer.concat(this.chunks));
  }

  /**
   * Health, metrics, RFC 9728 metadata and CORS preflight are not MCP messages: the broker answers
   * them exactly as the standalone server does (routed already at the headers phase).
   */
  private bypassesAdmission(r: ReceivedHeaders): boolean {
    return (r.pseudo[':path'] ?? '/').split('?')[0] !== this.deps.mcpPath || r.pseudo[':method'] === 'OPTIONS';
  }

  private async decide(phase: 'request_headers' | 'request_body', body: Buffer | undefined): Promise<ProcessingResponse> {
    const received = this.received!;
    const decision = await this.deps.decide(toGatewayRequest(received, body, this.remoteAddress));
    this.deps.logger.debug({ decision: decision.kind, phase }, 'ext_proc decision');
    const origin = received.headers.origin;
    const cors: Record<string, string> = origin !== undefined && this.originAllowed(origin) ? { 'access-control-allow-origin': origin, 'access-control-expose-headers': CORS_EXPOSE_HEADERS, vary: 'Origin' } : {};
    const out = decisionMutation(decision, received.internal, cors);
    if ('immediate' in out) return out.immediate;
    return phase === 'request_headers' ? { request_headers: { response: out.common } } : { request_body: { response: out.common } };
  }
}
