/**
 * The header checks of a stateless (2026-07-28) Streamable HTTP request: `MCP-Protocol-Version`,
 * `Mcp-Method`, `Mcp-Name` and a tool's `Mcp-Param-*` headers mirror the body so intermediaries
 * (Envoy, load balancers) can route on them; a server that reads the body must refuse any
 * disagreement (400, -32020 HeaderMismatch), or something routed on a header would run as the
 * body says. Pure: the caller turns a mismatch into its answer.
 */
import { HEADER_METHOD, HEADER_NAME } from './era.js';
import { argumentAt, decodeHeaderValue, mirroredText, paramHeaderName, type ParamHeader } from './header-values.js';
import type { JsonRpcRequest } from './jsonrpc.js';
import type { MethodSpec } from './methods.js';
import { HEADER_PROTOCOL_VERSION } from './protocol.js';

type Headers = Readonly<Record<string, string | undefined>>;

/** RFC 9110 field-value characters the specification allows unencoded: visible ASCII, space, tab. */
const FIELD_VALUE = /^[\t\x20-\x7e]*$/;

/** A mirrored header, decoded; `{ bad }` when it holds invalid characters or a broken Base64 sentinel. */
function mirrored(headers: Headers, name: string): { value: string | undefined } | { bad: string } {
  const raw = headers[name];
  if (raw === undefined) return { value: undefined };
  if (!FIELD_VALUE.test(raw)) return { bad: `${name} holds characters a header value may not carry` };
  const value = decodeHeaderValue(raw);
  return value === undefined ? { bad: `${name} is not valid =?base64?…?= encoding` } : { value };
}

/**
 * Why the standard headers disagree with the body, or undefined when they agree:
 * `MCP-Protocol-Version` against the version the body claims, `Mcp-Method` against the method,
 * and for methods that mirror a name (src/mcp/methods.ts) `Mcp-Name` against `params.name` or
 * `params.uri`, after decoding. Missing headers are mismatches too.
 */
export function standardHeaderMismatch(headers: Headers, message: JsonRpcRequest, version: string, spec: MethodSpec | undefined): string | undefined {
  const header = headers[HEADER_PROTOCOL_VERSION];
  if (header === undefined) return 'the MCP-Protocol-Version header is missing';
  if (header !== version) return `MCP-Protocol-Version header '${header}' does not match body value '${version}'`;
  const method = headers[HEADER_METHOD];
  if (method === undefined) return 'the Mcp-Method header is missing';
  if (method !== message.method) return `Mcp-Method header '${method}' does not match body value '${message.method}'`;
  if (!spec?.mirrorsName) return undefined;
  const body = message.params?.[spec.mirrorsName];
  const name = mirrored(headers, HEADER_NAME);
  if ('bad' in name) return name.bad;
  // A body without the field is refused later as invalid params; the header has nothing to mirror.
  if (typeof body !== 'string') return undefined;
  if (name.value === undefined) return 'the Mcp-Name header is missing';
  if (name.value !== body) return `Mcp-Name header '${name.value}' does not match body value '${body}'`;
  return undefined;
}

/**
 * Why a `tools/call`'s `Mcp-Param-*` headers disagree with its arguments, or undefined. `declared`
 * comes from `declaredParamHeaders` (the validated declarations the gateway's own requests
 * mirror): every argument the gateway would mirror needs its header, equal after decoding
 * (integers compared as numbers); a header present for any declaration must decode.
 */
export function paramHeaderMismatch(headers: Headers, declared: readonly ParamHeader[], args: Record<string, unknown>): string | undefined {
  for (const d of declared) {
    const got = mirrored(headers, paramHeaderName(d));
    if ('bad' in got) return got.bad;
    const value = argumentAt(args, d.path);
    const text = mirroredText(value);
    if (text === undefined) continue;
    if (got.value === undefined) return `the Mcp-Param-${d.header} header is missing`;
    const same = typeof value === 'number' ? got.value.trim() !== '' && Number(got.value) === value : got.value === text;
    if (!same) return `Mcp-Param-${d.header} header '${got.value}' does not match body value '${text}'`;
  }
  return undefined;
}
