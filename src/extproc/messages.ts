/**
 * The slice of Envoy's ext_proc messages this adapter reads and writes, typed as
 * `@grpc/proto-loader` presents them with {@link LOADER_OPTIONS} (snake_case fields, a virtual
 * field naming each set `oneof` branch, bytes as Buffers). Only `src/extproc/` uses these types.
 */
export interface HeaderValue {
  key: string;
  value?: string;
  /** Envoy sends header values here (bytes), not in `value`. */
  raw_value?: Buffer;
}

export interface HeaderValueOption {
  header: HeaderValue;
  append_action?: 'APPEND_IF_EXISTS_OR_ADD' | 'ADD_IF_ABSENT' | 'OVERWRITE_IF_EXISTS_OR_ADD' | 'OVERWRITE_IF_EXISTS';
}

export interface HeaderMutation {
  set_headers?: HeaderValueOption[];
  remove_headers?: string[];
}

export interface HttpHeaders {
  headers?: { headers?: HeaderValue[] };
  end_of_stream?: boolean;
}

export interface HttpBody {
  body?: Buffer;
  end_of_stream?: boolean;
}

/**
 * `google.protobuf.Struct` as decoded: only string values are read here. protobufjs decodes this
 * well-known type with camelCase names whatever `keepCase` says, hence `stringValue`.
 */
export interface Struct {
  fields?: Record<string, { stringValue?: string }>;
}

/**
 * `google.protobuf.Struct` as written in `dynamic_metadata`: one struct per namespace (its
 * top-level keys), of string values (camelCase names, as for {@link Struct}).
 */
export interface MetadataStruct {
  fields: Record<string, { structValue: { fields: Record<string, { stringValue: string }> } }>;
}

export interface ProcessingRequest {
  /** Which branch of the `request` oneof is set. */
  request?: 'request_headers' | 'response_headers' | 'request_body' | 'response_body' | 'request_trailers' | 'response_trailers';
  request_headers?: HttpHeaders;
  request_body?: HttpBody;
  response_headers?: HttpHeaders;
  /** Requested attributes (`request_attributes` in envoy.yaml), keyed by filter name. */
  attributes?: Record<string, Struct>;
}

export interface CommonResponse {
  status?: 'CONTINUE' | 'CONTINUE_AND_REPLACE';
  header_mutation?: HeaderMutation;
  /** Replaces the buffered body, or one streamed chunk of it (request body phase); `clear_body` empties a chunk. */
  body_mutation?: { body?: Buffer } | { clear_body: true };
  clear_route_cache?: boolean;
}

type HeaderSendMode = 'DEFAULT' | 'SEND' | 'SKIP';
type BodySendMode = 'NONE' | 'STREAMED' | 'BUFFERED' | 'BUFFERED_PARTIAL';

/** `envoy.extensions.filters.http.ext_proc.v3.ProcessingMode`, for `mode_override`. */
export interface ProcessingMode {
  request_header_mode?: HeaderSendMode;
  response_header_mode?: HeaderSendMode;
  request_body_mode?: BodySendMode;
  response_body_mode?: BodySendMode;
  request_trailer_mode?: HeaderSendMode;
  response_trailer_mode?: HeaderSendMode;
}

export interface ImmediateResponse {
  status: { code: number };
  headers?: HeaderMutation;
  body?: Buffer;
  details?: string;
}

export type ProcessingResponse =
  | { request_headers: { response: CommonResponse }; mode_override?: ProcessingMode; dynamic_metadata?: MetadataStruct }
  | { request_body: { response: CommonResponse } }
  | { request_trailers: { header_mutation?: HeaderMutation } }
  | { response_headers: { response: CommonResponse } }
  | { response_body: { response: CommonResponse } }
  | { response_trailers: { header_mutation?: HeaderMutation } }
  | { immediate_response: ImmediateResponse };
