import { HEADER_PARAM_PREFIX } from './era.js';
import { isObject } from './jsonrpc.js';
import { describeMethod } from './methods.js';

/**
 * The request headers of the stateless era that mirror body values (2026-07-28 Streamable HTTP,
 * "Request Metadata"): how a value is written into a header and read back, which body value
 * `Mcp-Name` mirrors, and which tool arguments a tool's `x-mcp-header` declarations mirror into
 * `Mcp-Param-*`. Intermediaries (Envoy, load balancers) route on these, so they must be exact.
 * The gateway's outbound requests and its admission checks both read them here, so admission
 * never demands a header the gateway itself would not send.
 */

const SENTINEL_PREFIX = '=?base64?';
const SENTINEL_SUFFIX = '?=';
/** Visible ASCII and space; no leading or trailing whitespace (checked apart). */
const PLAIN = /^[\x20-\x7e]*$/;
/** RFC 9110 `token` (1*tchar): what an `x-mcp-header` name must be. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * A value as a header carries it: unchanged when it is plain ASCII, otherwise (non-ASCII,
 * control characters, leading or trailing whitespace, or a value that looks like the sentinel
 * itself) `=?base64?<UTF-8 in Base64>?=`, so no value can inject a header or be misread.
 */
export function encodeHeaderValue(value: string): string {
  const plain = PLAIN.test(value) && value.trim() === value && !(value.startsWith(SENTINEL_PREFIX) && value.endsWith(SENTINEL_SUFFIX));
  return plain ? value : `${SENTINEL_PREFIX}${Buffer.from(value, 'utf8').toString('base64')}${SENTINEL_SUFFIX}`;
}

/**
 * A mirrored header's value as the body holds it (`Mcp-Name`, `Mcp-Param-*`), the inverse of
 * {@link encodeHeaderValue}. Undefined when the sentinel wraps something that is not Base64 of
 * UTF-8, which the caller refuses (-32020).
 */
export function decodeHeaderValue(raw: string): string | undefined {
  if (!raw.startsWith(SENTINEL_PREFIX) || !raw.endsWith(SENTINEL_SUFFIX) || raw.length < SENTINEL_PREFIX.length + SENTINEL_SUFFIX.length) return raw;
  const b64 = raw.slice(SENTINEL_PREFIX.length, raw.length - SENTINEL_SUFFIX.length);
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || b64.length % 4 !== 0) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(b64, 'base64'));
  } catch {
    return undefined;
  }
}

/** The body value `Mcp-Name` mirrors for a method (the method table's `mirrorsName` field), if the method has one. */
export function nameHeaderSource(method: string, params: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const field = describeMethod(method)?.mirrorsName;
  const value = field ? params?.[field] : undefined;
  return typeof value === 'string' ? value : undefined;
}

/** One `x-mcp-header` declaration: the header name part (`Mcp-Param-<header>`) and the argument path it mirrors. */
export interface ParamHeader {
  readonly header: string;
  readonly path: readonly string[];
}

/**
 * The `x-mcp-header` declarations of a tool's input schema, or why the schema's declarations are
 * invalid (a client must then not offer the tool). Valid declarations sit on primitive
 * (string, integer, boolean) properties reachable from the root through `properties` only, name
 * an RFC 9110 token, and are unique regardless of case.
 */
export function paramHeadersOf(inputSchema: unknown): { headers: ParamHeader[] } | { problem: string } {
  const headers: ParamHeader[] = [];
  const seen = new Set<string>();
  let problem: string | undefined;
  const visit = (node: unknown, path: string[], reachable: boolean): void => {
    if (problem || !isObject(node)) return;
    if ('x-mcp-header' in node && path.length > 0) {
      const where = path.join('.');
      const name = node['x-mcp-header'];
      if (!reachable) problem = `${where}: x-mcp-header is allowed only on properties reached through "properties"`;
      else if (typeof name !== 'string' || !TOKEN.test(name)) problem = `${where}: x-mcp-header must be a non-empty HTTP token`;
      else if (!['string', 'integer', 'boolean'].includes(node.type as string)) problem = `${where}: x-mcp-header is allowed only on string, integer or boolean properties`;
      else if (seen.has(name.toLowerCase())) problem = `${where}: x-mcp-header "${name}" is declared twice`;
      else {
        seen.add(name.toLowerCase());
        headers.push({ header: name, path });
      }
    } else if ('x-mcp-header' in node) problem = 'x-mcp-header is not allowed on the schema root';
    for (const [key, child] of Object.entries(node)) {
      if (key === 'properties' && isObject(child)) {
        for (const [prop, sub] of Object.entries(child)) visit(sub, [...path, prop], reachable);
      } else if (isObject(child) || Array.isArray(child)) {
        for (const sub of Array.isArray(child) ? child : [child]) visit(sub, [...path, `(${key})`], false);
      }
    }
  };
  visit(inputSchema, [], true);
  return problem ? { problem } : { headers };
}

/** A tool's valid `x-mcp-header` declarations; none when they are invalid (discovery leaves such tools out). */
export function declaredParamHeaders(inputSchema: unknown): readonly ParamHeader[] {
  const declared = paramHeadersOf(inputSchema);
  return 'headers' in declared ? declared.headers : [];
}

/** The header a declaration mirrors its argument into (lower case, as Node hands request headers over). */
export function paramHeaderName(d: ParamHeader): string {
  return `${HEADER_PARAM_PREFIX}${d.header.toLowerCase()}`;
}

/** The argument a declaration points at (undefined when any step of its path is missing). */
export function argumentAt(args: unknown, path: readonly string[]): unknown {
  let value: unknown = args;
  for (const key of path) value = isObject(value) ? value[key] : undefined;
  return value;
}

/**
 * The text an argument is mirrored as, before {@link encodeHeaderValue}: a string as it is, a
 * boolean or a safe integer in JSON form. Undefined for anything else (absent, null, an object
 * where the schema said string): such an argument gets no header, and admission asks for none.
 */
export function mirroredText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'boolean' || (typeof value === 'number' && Number.isSafeInteger(value))) return String(value);
  return undefined;
}

/**
 * The `Mcp-Param-<Name>` headers a call with these arguments carries: one per declaration whose
 * argument {@link mirroredText} mirrors, encoded as {@link encodeHeaderValue} says.
 */
export function paramHeaderValues(declared: readonly ParamHeader[], args: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  for (const d of declared) {
    const text = mirroredText(argumentAt(args, d.path));
    if (text !== undefined) out[paramHeaderName(d)] = encodeHeaderValue(text);
  }
  return out;
}
