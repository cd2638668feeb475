import type { HttpMapping } from '../config/schema.js';
import { GatewayError } from '../errors.js';

/** An outbound HTTP request built from a tool call. */
export interface RestRequest {
  readonly method: string;
  /** Path and query, to append to the instance's base URL. */
  readonly path: string;
  readonly headers: Record<string, string>;
  readonly body?: string;
}

const WHOLE = /^\{([A-Za-z0-9_.-]+)\}$/;
const PLACEHOLDER = /\{([A-Za-z0-9_.-]+)\}/g;

function scalar(v: unknown): string {
  return typeof v === 'string' ? v : JSON.stringify(v);
}

/**
 * Map a tool call onto the backend's HTTP API: `{arg}` placeholders in the path, query, headers
 * and body take the argument values. Arguments not placed anywhere go to the query string for
 * GET/DELETE and to the JSON body for POST/PUT/PATCH, unless the mapping says otherwise.
 */
export function buildRestRequest(mapping: HttpMapping, args: Record<string, unknown>): RestRequest {
  const used = new Set<string>();
  const take = (name: string): unknown => {
    used.add(name);
    return args[name];
  };

  const path = fillPath(mapping.path, take);

  const headers: Record<string, string> = {};
  for (const [key, template] of Object.entries(mapping.headers ?? {})) {
    const v = render(template, take);
    if (v === undefined) continue;
    const value = scalar(v);
    // Control characters would end the header (CR/LF injection) or be refused by the HTTP client.
    if (/[\u0000-\u0008\u000a-\u001f\u007f]/.test(value)) {
      throw new GatewayError('GW_ARGUMENTS_INVALID', `the value for header "${key}" may not contain control characters (CR, LF, NUL…)`);
    }
    headers[key.toLowerCase()] = value;
  }

  const query = new URLSearchParams();
  const addQuery = (key: string, v: unknown): void => {
    if (v === undefined || v === null) return;
    if (Array.isArray(v)) for (const item of v) query.append(key, scalar(item));
    else query.append(key, scalar(v));
  };
  if (mapping.query) for (const [key, template] of Object.entries(mapping.query)) addQuery(key, render(template, take));

  const hasBody = mapping.method === 'POST' || mapping.method === 'PUT' || mapping.method === 'PATCH';
  const bodyMode = mapping.body ?? (hasBody ? 'arguments' : 'none');
  let body: string | undefined;
  if (typeof bodyMode === 'object') body = JSON.stringify(renderDeep(bodyMode, take));
  // Exactly "{arg}": that argument, whatever its type, is the body; absent, there is none.
  else if (bodyMode !== 'arguments' && bodyMode !== 'none') body = JSON.stringify(render(bodyMode, take));
  const rest = (): Record<string, unknown> => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(args)) if (!used.has(k)) out[k] = v;
    return out;
  };
  if (bodyMode === 'arguments') body = JSON.stringify(rest());
  else if (!mapping.query && !hasBody) for (const [k, v] of Object.entries(rest())) addQuery(k, v);

  if (body !== undefined) headers['content-type'] = 'application/json';
  const qs = query.toString();
  const req: RestRequest = { method: mapping.method, path: qs ? `${path}?${qs}` : path, headers };
  return body === undefined ? req : { ...req, body };
}

/**
 * Fill the path template segment by segment. A value is percent-encoded, so it cannot add a
 * separator; and a segment it fills may not become empty, `.` or `..`, which URL resolution
 * would drop or climb out of (`/items/{id}/details` with `..` would reach `/details`): the
 * arguments never change the path's shape, so a policy on one tool cannot be stepped around.
 */
function fillPath(template: string, take: (name: string) => unknown): string {
  return template
    .split('/')
    .map((segment) => {
      const names: string[] = [];
      const filled = segment.replace(PLACEHOLDER, (_m, name: string) => {
        const v = take(name);
        if (v === undefined || v === null) throw new GatewayError('GW_ARGUMENTS_INVALID', `argument "${name}" is required (it is part of the URL path)`);
        names.push(name);
        return encodeURIComponent(scalar(v));
      });
      if (names.length > 0 && (filled === '' || filled === '.' || filled === '..')) {
        const which = names.map((n) => `"${n}"`).join(', ');
        throw new GatewayError('GW_ARGUMENTS_INVALID', `argument ${which} fills a URL path segment and may not make it empty, "." or ".."`);
      }
      return filled;
    })
    .join('/');
}

/** A template string: exactly `{arg}` keeps the value's type; otherwise placeholders are interpolated. */
function render(template: string, take: (name: string) => unknown): unknown {
  const whole = WHOLE.exec(template);
  if (whole) return take(whole[1]!);
  return template.replace(PLACEHOLDER, (_m, name: string) => {
    const v = take(name);
    return v === undefined || v === null ? '' : scalar(v);
  });
}

function renderDeep(value: unknown, take: (name: string) => unknown): unknown {
  if (typeof value === 'string') return render(value, take);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, take));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = renderDeep(v, take);
      if (r !== undefined) out[k] = r;
    }
    return out;
  }
  return value;
}

/** Join an instance base URL (which may carry a path prefix) with a request path. */
export function joinUrl(base: string, path: string): URL {
  const u = new URL(base);
  const prefix = u.pathname.endsWith('/') ? u.pathname.slice(0, -1) : u.pathname;
  return new URL(`${u.origin}${prefix}${path}`);
}
