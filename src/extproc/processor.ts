/**
 * One processor per ext_proc stream, that is per HTTP request (Envoy opens a stream for each),
 * with a method per phase. Envoy is configured (envoy/envoy.yaml `processing_mode`) to send the
 * request headers and the buffered request body. The headers phase settles what the headers
 * alone can (host, origin, authentication, media types: refused there without reading the body)
 * and which phases the request needs: session-era MCP POSTs also get the response headers
 * (`mode_override`), to settle calls routed straight to a backend (its session, its failures);
 * stateless (2026-07-28) requests do not (docs/envoy-topology.md, "Round trips"). Other phases
 * are answered with a plain CONTINUE in case a configuration sends them anyway.
 */
import type { Logger } from 'pino';
import type { Decision, GatewayRequest, Refusal } from '../admission/decision.js';
import type { Screened } from '../admission/admit.js';
import { isStatelessRequest } from '../admission/stateless.js';
import { eraOf } from '../mcp/era.js';
import { corsHeaders } from '../admission/origin.js';
import { isMetadataPath } from '../auth/challenge.js';
import { endpointOf } from '../endpoint.js';
import { HANDOFF_HEADER, type DecisionHandoff } from '../admission/handoff.js';
import type { McpBackendConfig } from '../config/schema.js';
import { wireError } from '../errors.js';
import { describeMethod } from '../mcp/methods.js';
import { HEADER_SESSION_ID } from '../mcp/protocol.js';
import type { DirectCall, DirectCalls } from '../upstream/direct.js';
import type { HttpBody, HttpHeaders, ProcessingMode, ProcessingRequest, ProcessingResponse } from './messages.js';
import {
  answer,
  directRoute,
  immediate,
  noAnswer,
  passResponse,
  rateLimitHeaders,
  RATE_LIMITED_HEADER,
  readHeaders,
  routeTo,
  sourceAddress,
  stripInternal,
  toGatewayRequest,
  BROKER_CLUSTER,
  type ReceivedHeaders,
} from './translate.js';

/** What a processor needs from the core: admission only (no Envoy type crosses this line). */
export interface ProcessorDeps {
  /** `screened`: what `screen` found in the same request's headers. */
  readonly decide: (req: GatewayRequest, screened?: Screened) => Promise<Decision>;
  /** The checks a request's headers settle (admission's `screen`): made in the headers phase when given. */
  readonly screen?: (req: GatewayRequest) => Promise<Refusal | Screened>;
  /** The MCP endpoint path (`server.path`); other paths go to the broker without admission. */
  readonly mcpPath: string;
  /** `server.allowedOrigins`, matched: answers Envoy gives itself carry the CORS headers the broker would add. */
  readonly originAllowed?: (origin: string | undefined) => boolean;
  readonly logger: Logger;
  /** Decisions handed to the broker so it does not admit forwarded requests again. */
  readonly handoff?: DecisionHandoff;
  /** Native MCP calls routed straight to their backend's cluster (needs the xDS clusters). */
  readonly direct?: {
    readonly calls: DirectCalls;
    /** Whether Envoy has a cluster for the backend (the xDS server serves one). */
    readonly routable: (backend: McpBackendConfig) => boolean;
    readonly cluster: (backend: string) => string;
  };
}

/** envoy.yaml's processing mode, plus the response headers: asked for MCP POSTs, which may become routed calls. */
const WITH_RESPONSE_HEADERS: ProcessingMode = {
  request_header_mode: 'SEND',
  request_body_mode: 'BUFFERED',
  request_trailer_mode: 'SKIP',
  response_header_mode: 'SEND',
  response_body_mode: 'NONE',
  response_trailer_mode: 'SKIP',
};

/** No browser origin allowed (no `originAllowed` given). */
const NO_ORIGINS = (): boolean => false;

export class RequestProcessor {
  private received: ReceivedHeaders | undefined;
  private remoteAddress: string | undefined;
  private readonly chunks: Buffer[] = [];
  /** The call this stream routed straight to a backend, settled by the response headers. */
  private routed: DirectCall | undefined;
  private cors: Record<string, string> = {};
  /** Not an MCP message (decided from the request headers): the broker answers it unadmitted. */
  private bypass = false;
  /** What the headers phase found (the caller), handed to admission with the body. */
  private screened: Screened | undefined;
  /** Envoy sends this stream the response headers (asked for in the headers phase). */
  private responsePhase = false;

  constructor(private readonly deps: ProcessorDeps) {}

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
        return this.responseHeaders(req.response_headers);
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
    const path = (received.pseudo[':path'] ?? '/').split('?')[0]!;
    this.bypass = this.bypassesAdmission(path, received.pseudo[':method']);
    if (this.bypass) return { request_headers: { response: routeTo(BROKER_CLUSTER, received.internal) } };
    if (endpointOf(path, this.deps.mcpPath) === undefined) return immediate(404, { error: 'not found', endpoint: this.deps.mcpPath }, {}, 'not_found');
    if (!h.end_of_stream) {
      if (this.deps.screen) {
        const screened = await this.deps.screen(toGatewayRequest(received, undefined, this.remoteAddress));
        if ('kind' in screened) return this.answerOf(screened);
        this.screened = screened;
      }
      const response = { request_headers: { response: { status: 'CONTINUE' as const, header_mutation: stripInternal(received.internal) } } };
      // A stateless call routed to its backend has no backend session to keep: its answer is not read.
      this.responsePhase = this.deps.direct !== undefined && received.pseudo[':method'] === 'POST' && !isStatelessRequest({ method: 'POST', headers: received.headers }, undefined);
      return this.responsePhase ? { ...response, mode_override: WITH_RESPONSE_HEADERS } : response;
    }
    const method = received.pseudo[':method'];
    return this.decide('request_headers', method === 'POST' ? Buffer.alloc(0) : undefined);
  }

  /** The whole body (BUFFERED mode sends it in one message); chunks are gathered in case of streaming. */
  async requestBody(b: HttpBody): Promise<ProcessingResponse> {
    if (b.body && b.body.length > 0) this.chunks.push(b.body);
    if (!b.end_of_stream) return { request_body: { response: {} } };
    if (!this.received) return immediate(500, wireError('GW_INTERNAL', null, 'body before headers'));
    if (this.bypass) return { request_body: { response: {} } };
    return this.decide('request_body', Buffer.concat(this.chunks));
  }

  /**
   * The only requests the broker answers unadmitted, an explicit list: RFC 9728 metadata (clients
   * read it before they have a token) and CORS preflight of the MCP endpoint (routed already at
   * the headers phase). Every other path but the MCP endpoint and its virtual servers
   * (`/mcp/<name>`) is answered 404 here: health and metrics live on the admin listener, never
   * behind Envoy's public one.
   */
  private bypassesAdmission(path: string, method: string | undefined): boolean {
    if (endpointOf(path, this.deps.mcpPath) !== undefined) return method === 'OPTIONS';
    return method === 'GET' && isMetadataPath(path);
  }

  private async decide(phase: 'request_headers' | 'request_body', body: Buffer | undefined): Promise<ProcessingResponse> {
    const received = this.received!;
    const decision = await this.deps.decide(toGatewayRequest(received, body, this.remoteAddress), this.screened);
    this.deps.logger.debug({ decision: decision.kind, phase }, 'ext_proc decision');
    if (decision.kind === 'reject' || decision.kind === 'respond') return this.answerOf(decision);
    this.cors = corsHeaders(received.headers.origin, this.deps.originAllowed ?? NO_ORIGINS);
    const { direct } = this.deps;
    // A call that waits for the user's confirmation goes to the broker, which asks (src/confirm/).
    if (direct && phase === 'request_body' && decision.kind === 'call-tool' && !decision.confirm && !decision.confirmed && describeMethod(decision.message.method)?.envoyDirect && this.canRoute(decision)) {
      const plan = await direct.calls.plan(decision, direct.routable);
      if (plan?.kind === 'answer') return immediate(200, plan.body, this.cors);
      // MCP: a cancelled request gets no answer.
      if (plan?.kind === 'cancelled') return noAnswer(this.cors);
      if (plan?.kind === 'forward') {
        this.routed = plan.call;
        if (!this.responsePhase) plan.call.unread();
        const limits = rateLimitHeaders(decision, this.remoteAddress);
        return { request_body: { response: directRoute(plan.call.plan, direct.cluster(plan.call.plan.backend), received.internal, limits) } };
      }
    }
    const limits = rateLimitHeaders(decision, this.remoteAddress);
    // The broker carries out the decision behind the ticket instead of admitting the request again.
    if (this.deps.handoff) limits[HANDOFF_HEADER] = this.deps.handoff.put(decision);
    const common = routeTo(BROKER_CLUSTER, received.internal, limits);
    return phase === 'request_headers' ? { request_headers: { response: common } } : { request_body: { response: common } };
  }

  /**
   * A session-era call is settled by its answer's status (its backend session, its failures), so
   * it is routed only on a stream that shows it; admission's era follows the headers, so such a
   * stream always does. A stateless call needs no answer read.
   */
  private canRoute(d: Extract<Decision, { kind: 'call-tool' }>): boolean {
    return this.responsePhase || eraOf(d.session.protocolVersion) === 'stateless';
  }

  /** Envoy's own answer to a refusal or an answer admission gave, with the CORS headers the broker would add. */
  private answerOf(decision: Extract<Decision, { kind: 'reject' | 'respond' }>): ProcessingResponse {
    this.cors = corsHeaders(this.received?.headers.origin, this.deps.originAllowed ?? NO_ORIGINS);
    return answer(decision, this.cors);
  }

  /**
   * A routed call's answer: through, without the backend's own session id, or replaced by the
   * gateway's tool error when the backend failed or lost the session. Others pass untouched.
   */
  private async responseHeaders(h: HttpHeaders | undefined): Promise<ProcessingResponse> {
    const routed = this.routed;
    if (!routed) return { response_headers: { response: {} } };
    const answered = readHeaders(h);
    if (answered.internal.includes(RATE_LIMITED_HEADER)) {
      // Envoy's own refusal (a rate limit after ext_proc): the call never reached the backend.
      routed.abandon();
      return { response_headers: { response: {} } };
    }
    const answer = await routed.settle(Number(answered.pseudo[':status']) || undefined);
    if (answer) return immediate(200, answer, this.cors);
    return passResponse(this.cors, [HEADER_SESSION_ID]);
  }

  /** The stream ended (client gone, Envoy's own answer): a routed call that never saw its answer ends unanswered. */
  close(): void {
    this.routed?.closed();
  }
}
