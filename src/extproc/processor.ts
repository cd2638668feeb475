/**
 * One processor per ext_proc stream, that is per HTTP request (Envoy opens a stream for each),
 * with a method per phase. The headers phase settles what the headers alone can (host, origin,
 * authentication, media types: refused there without reading the body); the body decides the
 * rest. Two processing modes are understood (docs/envoy-topology.md, "Round trips"):
 * - lock-step (`request_body_mode: BUFFERED`): each phase is answered as it comes, the routing
 *   in the body's answer; session-era MCP POSTs ask for the response headers too (`mode_override`);
 * - pipelined (envoy/envoy.yaml: `STREAMED` with `send_body_without_waiting_for_header_response`,
 *   announced by {@link PIPELINED_HEADER}): Envoy sends the body right behind the headers, and the
 *   headers' answer waits for it, so the request is decided and routed in one round trip. No
 *   response phase: a session-era call's failing answer alone reaches ext_proc, on a stream of its
 *   own ({@link RequestProcessor.failedAnswer}).
 * Other phases are answered with a plain CONTINUE in case a configuration sends them anyway.
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
import type { CommonResponse, HttpBody, HttpHeaders, MetadataStruct, ProcessingMode, ProcessingRequest, ProcessingResponse } from './messages.js';
import {
  answer,
  answerStatus,
  directRoute,
  immediate,
  noAnswer,
  passResponse,
  PIPELINED_HEADER,
  answerMetadata,
  CALL_HEADER,
  failedCallOf,
  rateLimitHeaders,
  RATE_LIMITED_HEADER,
  RPC_ID_HEADER,
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
  /**
   * `server.maxBodyBytes`: a streamed body is refused once it grows past it, before the rest is
   * gathered (envoy.yaml's buffer filter refuses one first; an Envoy without it does not).
   */
  readonly maxBodyBytes?: number;
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

/**
 * What the decision makes of a request: Envoy's own answer, or the request continues with these
 * header changes (and route), maybe with a new body.
 */
type Outcome =
  | { readonly kind: 'answer'; readonly response: ProcessingResponse }
  | { readonly kind: 'continue'; readonly common: CommonResponse; readonly body?: Buffer; readonly metadata?: MetadataStruct };

/** No browser origin allowed (no `originAllowed` given). */
const NO_ORIGINS = (): boolean => false;

export class RequestProcessor {
  private received: ReceivedHeaders | undefined;
  private remoteAddress: string | undefined;
  private readonly chunks: Buffer[] = [];
  private bodyBytes = 0;
  /** The call this stream routed straight to a backend, settled by the response headers. */
  private routed: DirectCall | undefined;
  private cors: Record<string, string> = {};
  /** Not an MCP message (decided from the request headers): the broker answers it unadmitted. */
  private bypass = false;
  /** What the headers phase found (the caller), handed to admission with the body. */
  private screened: Screened | undefined;
  /** Envoy sends this stream the response headers (asked for in the headers phase). */
  private responsePhase = false;
  /** Envoy streams the body without waiting for the headers' answer ({@link PIPELINED_HEADER}). */
  private pipelined = false;
  /** Pipelined: the headers' answer waits for the body; body chunks seen meanwhile, each owed an answer after it. */
  private held: { chunks: number } | undefined;
  /** Envoy got its own answer for this request: later messages of the stream get none. */
  private answered = false;

  constructor(private readonly deps: ProcessorDeps) {}

  /**
   * Dispatch one message of the stream to its phase: the answers to write, in order. Usually one;
   * none while a pipelined request's headers wait for its body, then all that are owed.
   */
  async process(req: ProcessingRequest): Promise<ProcessingResponse[]> {
    // Envoy sends the attributes with the stream's first message.
    this.remoteAddress ??= sourceAddress(req);
    if (this.answered) return [];
    const answers = await this.dispatch(req);
    if (answers.some((a) => 'immediate_response' in a)) this.answered = true;
    return answers;
  }

  private async dispatch(req: ProcessingRequest): Promise<ProcessingResponse[]> {
    switch (req.request) {
      case 'request_headers':
        return this.requestHeaders(req.request_headers ?? {});
      case 'request_body':
        return this.requestBody(req.request_body ?? {});
      case 'request_trailers':
        return [{ request_trailers: {} }];
      case 'response_headers':
        return [await this.responseHeaders(req.response_headers)];
      case 'response_body':
        return [{ response_body: { response: {} } }];
      case 'response_trailers':
        return [{ response_trailers: {} }];
      default:
        return [immediate(500, wireError('GW_INTERNAL', null, 'unexpected ext_proc message'))];
    }
  }

  /** Decide now when there is no body; otherwise screen the headers and wait for the body. */
  async requestHeaders(h: HttpHeaders): Promise<ProcessingResponse[]> {
    const received = readHeaders(h);
    this.received = received;
    this.pipelined = received.internal.includes(PIPELINED_HEADER);
    const path = (received.pseudo[':path'] ?? '/').split('?')[0]!;
    this.bypass = this.bypassesAdmission(path, received.pseudo[':method']);
    if (this.bypass) return [{ request_headers: { response: routeTo(BROKER_CLUSTER, received.internal) } }];
    if (endpointOf(path, this.deps.mcpPath) === undefined) return [immediate(404, { error: 'not found', endpoint: this.deps.mcpPath }, {}, 'not_found')];
    if (h.end_of_stream) {
      const method = received.pseudo[':method'];
      return [this.lockStep('request_headers', await this.decide(method === 'POST' ? Buffer.alloc(0) : undefined))];
    }
    if (this.deps.screen) {
      const screened = await this.deps.screen(toGatewayRequest(received, undefined, this.remoteAddress));
      if ('kind' in screened) return [this.answerOf(screened)];
      this.screened = screened;
    }
    if (this.pipelined) {
      this.held = { chunks: 0 };
      return [];
    }
    const response = { request_headers: { response: { status: 'CONTINUE' as const, header_mutation: stripInternal(received.internal) } } };
    // A stateless call routed to its backend has no backend session to keep: its answer is not read.
    this.responsePhase = this.deps.direct !== undefined && received.pseudo[':method'] === 'POST' && !isStatelessRequest({ method: 'POST', headers: received.headers }, undefined);
    return [this.responsePhase ? { ...response, mode_override: WITH_RESPONSE_HEADERS } : response];
  }

  /** The body: BUFFERED mode sends it whole, STREAMED in chunks, gathered until its end. */
  async requestBody(b: HttpBody): Promise<ProcessingResponse[]> {
    if (b.body && b.body.length > 0) {
      this.chunks.push(b.body);
      this.bodyBytes += b.body.length;
      const limit = this.deps.maxBodyBytes;
      if (limit !== undefined && this.bodyBytes > limit && !this.bypass) {
        this.chunks.length = 0;
        return [immediate(413, wireError('GW_PAYLOAD_TOO_LARGE', null, `the limit is ${limit} bytes`), {}, 'GW_PAYLOAD_TOO_LARGE')];
      }
    }
    const held = this.held;
    if (held) held.chunks++;
    if (!b.end_of_stream) return held ? [] : [{ request_body: { response: {} } }];
    if (!this.received) return [immediate(500, wireError('GW_INTERNAL', null, 'body before headers'))];
    if (this.bypass) return [{ request_body: { response: {} } }];
    const outcome = await this.decide(Buffer.concat(this.chunks));
    return held ? this.pipelinedAnswers(outcome, held.chunks) : [this.lockStep('request_body', outcome)];
  }

  /** Lock-step: the decision answers the phase it was made in; a new body goes with the routing. */
  private lockStep(phase: 'request_headers' | 'request_body', outcome: Outcome): ProcessingResponse {
    if (outcome.kind === 'answer') return outcome.response;
    if (phase === 'request_headers') return { request_headers: { response: outcome.common } };
    return { request_body: { response: outcome.body ? { ...outcome.common, body_mutation: { body: outcome.body } } : outcome.common } };
  }

  /**
   * Pipelined: the headers' answer (the routing), then one answer per body chunk Envoy sent, the
   * first carrying the new body when there is one.
   */
  private pipelinedAnswers(outcome: Outcome, chunks: number): ProcessingResponse[] {
    if (outcome.kind === 'answer') return [outcome.response];
    const answers: ProcessingResponse[] = [{ request_headers: { response: outcome.common }, ...(outcome.metadata ? { dynamic_metadata: outcome.metadata } : {}) }];
    for (let i = 0; i < chunks; i++) {
      const body_mutation = outcome.body === undefined ? undefined : i === 0 ? { body: outcome.body } : { clear_body: true as const };
      answers.push({ request_body: { response: body_mutation ? { body_mutation } : {} } });
    }
    return answers;
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

  /**
   * Admission's decision on the whole request, as an {@link Outcome}. Only a request with a body
   * can be routed straight to a backend (the tool's name is in it).
   */
  private async decide(body: Buffer | undefined): Promise<Outcome> {
    const received = this.received!;
    const decision = await this.deps.decide(toGatewayRequest(received, body, this.remoteAddress), this.screened);
    if (this.deps.logger.isLevelEnabled('debug')) this.deps.logger.debug({ decision: decision.kind, pipelined: this.pipelined }, 'ext_proc decision');
    if (decision.kind === 'reject' || decision.kind === 'respond') return { kind: 'answer', response: this.answerOf(decision) };
    this.cors = corsHeaders(received.headers.origin, this.deps.originAllowed ?? NO_ORIGINS);
    const { direct } = this.deps;
    // A call that waits for the user's confirmation goes to the broker, which asks (src/confirm/).
    if (direct && body !== undefined && body.length > 0 && decision.kind === 'call-tool' && !decision.confirm && !decision.confirmed && describeMethod(decision.message.method)?.envoyDirect && this.canRoute(decision)) {
      const plan = await direct.calls.plan(decision, direct.routable);
      if (plan?.kind === 'answer') return { kind: 'answer', response: immediate(200, plan.body, this.cors) };
      // MCP: a cancelled request gets no answer.
      if (plan?.kind === 'cancelled') return { kind: 'answer', response: noAnswer(this.cors) };
      if (plan?.kind === 'forward') {
        const call = plan.call;
        this.routed = call;
        const gatewayHeaders = rateLimitHeaders(decision, this.remoteAddress);
        // Lock-step, the response phase settles a session-era call and a stateless call's answer
        // is not read; pipelined, Envoy shows a call's failing answer only, on a stream of its
        // own (envoy.yaml's mcp.failed_answers).
        let metadata: MetadataStruct | undefined;
        if (this.pipelined) {
          call.failureShownApart();
          metadata = answerMetadata(this.cors, call, gatewayHeaders[RPC_ID_HEADER]);
        } else if (!this.responsePhase) call.unread();
        const { body_mutation, ...common } = directRoute(call.plan, direct.cluster(call.plan.backend), received.internal, gatewayHeaders);
        return { kind: 'continue', common, body: body_mutation.body, ...(metadata ? { metadata } : {}) };
      }
    }
    const limits = rateLimitHeaders(decision, this.remoteAddress);
    // The broker carries out the decision behind the ticket instead of admitting the request again.
    if (this.deps.handoff) limits[HANDOFF_HEADER] = this.deps.handoff.put(decision);
    return { kind: 'continue', common: routeTo(BROKER_CLUSTER, received.internal, limits) };
  }

  /**
   * A session-era call is settled by its answer's status (its backend session, its failures), so
   * it is routed only where that status is known: lock-step, on a stream that asked for the
   * response headers (admission's era follows the headers, so such a stream always does);
   * pipelined, through a failing answer shown apart (a successful one needs no reading). A
   * stateless call needs no answer read.
   */
  private canRoute(d: Extract<Decision, { kind: 'call-tool' }>): boolean {
    return this.pipelined || this.responsePhase || eraOf(d.session.protocolVersion) === 'stateless';
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
    if (!routed) return this.failedAnswer(h);
    const answered = readHeaders(h);
    if (answered.internal.includes(RATE_LIMITED_HEADER)) {
      // Envoy's own refusal (a rate limit after ext_proc): the call never reached the backend.
      routed.abandon();
      return { response_headers: { response: {} } };
    }
    const answer = await routed.settle(answerStatus(answered));
    if (answer) return immediate(200, answer, this.cors);
    return passResponse(this.cors, [HEADER_SESSION_ID]);
  }

  /**
   * A stream that begins with the response headers: envoy.yaml's `mcp.failed_answers` showing the
   * failing answer of a call routed in the pipelined mode ({@link CALL_HEADER} names it). Settled
   * as the response phase settles a call (the tool error instead, a lost session forgotten), by
   * whichever replica Envoy sent it to (src/upstream/direct-failures.ts); the backend route puts
   * the CORS headers on it. Anything else passes untouched.
   */
  private async failedAnswer(h: HttpHeaders | undefined): Promise<ProcessingResponse> {
    const calls = this.deps.direct?.calls;
    const named = failedCallOf(h);
    if (!calls || !named) return { response_headers: { response: {} } };
    const answered = readHeaders(h);
    const answer = await calls.failedAnswer(named.id, answerStatus(answered), answered.internal.includes(RATE_LIMITED_HEADER), named.facts);
    return answer ? immediate(200, answer) : { response_headers: { response: {} } };
  }

  /**
   * The stream ended (client gone, Envoy's own answer): a routed call that never saw its answer
   * ends unanswered. `reset`: Envoy cut the stream instead of closing it (it gave up waiting for
   * an answer, or the request died), so a call whose answer is only shown when it fails is abandoned.
   */
  close(reset = false): void {
    if (reset) this.routed?.abandonUnseen();
    this.routed?.closed();
  }
}
