import { createHash } from 'node:crypto';
import type { HttpMapping, OpenApiSourceConfig, RestToolConfig, ToolAnnotations } from '../../config/schema.js';
import { globMatcher } from '../../glob.js';
import { isJsonMedia, mediaType } from '../../mcp/media-type.js';
import { MAX_NODES, SchemaProblem, toJsonSchema } from './json-schema.js';

/** An operation that could not become a tool, and why. */
export interface SkippedOperation {
  /** `METHOD /path` and the operationId when there is one. */
  readonly operation: string;
  readonly reason: string;
}

/** What one document became. */
export interface Conversion {
  readonly tools: RestToolConfig[];
  readonly skipped: SkippedOperation[];
  /** Operations the include/exclude selection left out (not problems). */
  readonly excluded: number;
}

type Json = Record<string, unknown>;
type Method = HttpMapping['method'];

const METHODS: readonly Method[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'];
const UNSUPPORTED = ['options', 'trace'];
/** The tool-name rules of the configuration (backend-schema.ts), and the names `{arg}` placeholders accept. */
const NAME_OK = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_NAME = 64;
/** The OpenAPI specification says header parameters of these names are ignored. */
const IGNORED_HEADERS = new Set(['accept', 'content-type', 'authorization']);

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Turn a dereferenced OpenAPI 3.0/3.1 document into REST tool definitions, exactly the shape
 * of hand-written `backends[].tools`: the same REST translation serves them. Each operation that
 * cannot become a valid tool is skipped with its reason; nothing here throws for one operation.
 */
export function operationsToTools(doc: Json, select: Pick<OpenApiSourceConfig, 'include' | 'exclude'>): Conversion {
  const wanted = selector(select);
  const drafts: Array<{ base: string; key: string; tool: Omit<RestToolConfig, 'name'> }> = [];
  const skipped: SkippedOperation[] = [];
  let excluded = 0;
  for (const [path, item] of Object.entries(isObject(doc.paths) ? doc.paths : {})) {
    if (!isObject(item)) continue;
    for (const [key, op] of Object.entries(item)) {
      const method = key.toUpperCase() as Method;
      if (!isObject(op) || (!METHODS.includes(method) && !UNSUPPORTED.includes(key))) continue;
      const operationId = typeof op.operationId === 'string' && op.operationId !== '' ? op.operationId : undefined;
      const label = `${method} ${path}${operationId ? ` (${operationId})` : ''}`;
      const tags = Array.isArray(op.tags) ? op.tags.filter((t): t is string => typeof t === 'string') : [];
      if (!wanted(operationId, tags)) {
        excluded++;
        continue;
      }
      if (!METHODS.includes(method)) {
        skipped.push({ operation: label, reason: `the REST translation does not send ${method} requests` });
        continue;
      }
      try {
        const tool = operationTool(method, path, item, op, tags);
        drafts.push({ base: operationId ? toolName(operationId) : toolName(`${key}${path}`), key: `${method} ${path}`, tool });
      } catch (err) {
        if (!(err instanceof SchemaProblem)) throw err;
        skipped.push({ operation: label, reason: err.message });
      }
    }
  }
  // Names two operations share get a suffix from their own method and path: stable whatever the order.
  const count = new Map<string, number>();
  for (const d of drafts) count.set(d.base, (count.get(d.base) ?? 0) + 1);
  const tools = drafts.map((d) => ({ name: count.get(d.base)! > 1 ? withSuffix(d.base, d.key) : d.base, ...d.tool }) as RestToolConfig);
  return { tools, skipped, excluded };
}

/** An operationId (or `method_path`) as a tool name: other characters become `_`; too long, a hash keeps it unique. */
export function toolName(raw: string): string {
  const name = raw.replace(/[^A-Za-z0-9_.-]+/g, '_').replace(/^_+|_+$/g, '') || 'operation';
  return name.length <= MAX_NAME ? name : withSuffix(name.slice(0, MAX_NAME - 9), raw);
}

function withSuffix(name: string, key: string): string {
  const hash = createHash('sha256').update(key).digest('hex').slice(0, 8);
  return `${name.slice(0, MAX_NAME - 9)}_${hash}`;
}

/** Include by tag or operationId glob (nothing listed: everything), then exclude likewise. */
function selector(select: Pick<OpenApiSourceConfig, 'include' | 'exclude'>): (operationId: string | undefined, tags: readonly string[]) => boolean {
  const inTags = globMatcher(select.include.tags);
  const inOps = globMatcher(select.include.operations);
  const outTags = globMatcher(select.exclude.tags);
  const outOps = globMatcher(select.exclude.operations);
  const includeAll = select.include.tags.length === 0 && select.include.operations.length === 0;
  return (id, tags) => {
    const included = includeAll || tags.some(inTags) || (id !== undefined && inOps(id));
    return included && !tags.some(outTags) && !(id !== undefined && outOps(id));
  };
}

interface Parameter {
  readonly name: string;
  readonly in: 'path' | 'query' | 'header' | 'cookie';
  readonly required: boolean;
  readonly schema: Json;
}

/** One operation as a tool (without its name). Throws {@link SchemaProblem} when it cannot be one. */
function operationTool(method: Method, path: string, item: Json, op: Json, tags: string[]): Omit<RestToolConfig, 'name'> {
  // One budget for the whole input schema: parameters and body together.
  const budget = { nodes: MAX_NODES };
  const placeholders = new Set((path.match(/\{[^{}]*\}/g) ?? []).map((p) => p.slice(1, -1)));
  // A path parameter the template does not use would have nowhere to go (or end up in the body).
  const params = parameters(item, op, budget).filter((p) => p.in !== 'path' || placeholders.has(p.name));
  const properties: Json = {};
  const required: string[] = [];
  const argOf = new Map<Parameter, string>();
  const taken = new Set<string>();
  for (const p of params) {
    const arg = uniqueArg(p.name, p.in, taken);
    argOf.set(p, arg);
    properties[arg] = p.schema;
    if (p.required) required.push(arg);
  }
  let template = path;
  for (const name of placeholders) {
    const p = params.find((x) => x.in === 'path' && x.name === name);
    if (!p) throw new SchemaProblem(`the path has {${name}} but no path parameter of that name`);
    template = template.replace(`{${name}}`, `{${argOf.get(p)}}`);
  }
  const http: { method: Method; path: string; query: Record<string, string>; headers?: Record<string, string>; body?: HttpMapping['body'] } = {
    method,
    path: template,
    query: {},
  };
  for (const p of params) {
    if (p.in === 'query') http.query[p.name] = `{${argOf.get(p)}}`;
    if (p.in === 'header') (http.headers ??= {})[p.name] = `{${argOf.get(p)}}`;
  }
  http.body = requestBody(op, properties, required, taken, budget);
  const inputSchema: Json = { type: 'object', properties };
  if (required.length > 0) inputSchema.required = required;
  const summary = typeof op.summary === 'string' ? op.summary.trim() : '';
  const description = typeof op.description === 'string' ? op.description.trim() : '';
  const tool: Omit<RestToolConfig, 'name'> = { inputSchema, annotations: annotationsOf(method), tags, http: http as HttpMapping };
  if (summary) tool.title = summary;
  const text = summary && description && !description.startsWith(summary) ? `${summary}\n\n${description}` : description || summary;
  if (text) tool.description = text;
  return tool;
}

function annotationsOf(method: Method): ToolAnnotations {
  if (method === 'GET' || method === 'HEAD') return { readOnlyHint: true };
  if (method === 'PUT' || method === 'DELETE') return { idempotentHint: true };
  return {};
}

/** Path-level parameters, overridden by the operation's own of the same name and place. */
function parameters(item: Json, op: Json, budget: { nodes: number }): Parameter[] {
  const byKey = new Map<string, Json>();
  for (const list of [item.parameters, op.parameters]) {
    if (!Array.isArray(list)) continue;
    for (const p of list) if (isObject(p) && typeof p.name === 'string' && typeof p.in === 'string') byKey.set(`${p.in}:${p.name}`, p);
  }
  const out: Parameter[] = [];
  // Path first, then query and headers: when names clash, the path parameter keeps the plain name.
  const order = { path: 0, query: 1, header: 2, cookie: 3 } as const;
  const sorted = [...byKey.values()].sort((a, b) => (order[a.in as keyof typeof order] ?? 9) - (order[b.in as keyof typeof order] ?? 9));
  for (const p of sorted) {
    const where = p.in as Parameter['in'];
    const name = p.name as string;
    const required = where === 'path' || p.required === true;
    if (where === 'cookie') {
      if (required) throw new SchemaProblem(`cookie parameter "${name}" is required and the REST translation sends no cookies`);
      continue;
    }
    if (where !== 'path' && where !== 'query' && where !== 'header') throw new SchemaProblem(`parameter "${name}" is in "${String(p.in)}", which OpenAPI does not define`);
    if (where === 'header' && IGNORED_HEADERS.has(name.toLowerCase())) continue;
    const schema = toJsonSchema(parameterSchema(p), budget);
    if (typeof p.description === 'string' && schema.description === undefined) schema.description = p.description;
    if (p.deprecated === true) schema.deprecated = true;
    out.push({ name, in: where, required, schema });
  }
  return out;
}

/** A parameter's `schema`, or the schema of its single `content` entry. */
function parameterSchema(p: Json): unknown {
  if (p.schema !== undefined) return p.schema;
  if (isObject(p.content)) {
    const first = Object.values(p.content)[0];
    if (isObject(first)) return first.schema;
  }
  return {};
}

/**
 * The JSON request body. An object whose property names are free becomes top-level arguments
 * (the body is "the arguments not used elsewhere"); anything else is one `body` argument.
 */
function requestBody(op: Json, properties: Json, required: string[], taken: Set<string>, budget: { nodes: number }): HttpMapping['body'] {
  const rb = op.requestBody;
  if (!isObject(rb) || !isObject(rb.content)) return 'none';
  const types = Object.keys(rb.content);
  const json = types.find((t) => isJsonMedia(mediaType(t))) ?? types.find((t) => t === '*/*');
  if (json === undefined) {
    // A form body with nothing in it (Stripe declares one on every operation) has nothing to send.
    if (Object.values(rb.content).every(isEmptyBody)) return 'none';
    throw new SchemaProblem(`its request body is only ${types.join(', ') || 'of no media type'}; the REST translation sends JSON`);
  }
  const media = rb.content[json];
  const schema = toJsonSchema(isObject(media) ? media.schema : undefined, budget);
  const bodyRequired = rb.required === true;
  const props = isObject(schema.properties) ? schema.properties : undefined;
  const flat = schema.type === 'object' && props !== undefined && !hasComposition(schema) && Object.keys(props).every((k) => NAME_OK.test(k) && !taken.has(k));
  if (flat) {
    for (const [k, v] of Object.entries(props)) {
      properties[k] = v;
      taken.add(k);
    }
    if (bodyRequired && Array.isArray(schema.required)) for (const r of schema.required) if (typeof r === 'string' && r in props) required.push(r);
    return 'arguments';
  }
  const arg = uniqueArg('body', 'body', taken);
  properties[arg] = typeof rb.description === 'string' && schema.description === undefined ? { ...schema, description: rb.description } : schema;
  if (bodyRequired) required.push(arg);
  return `{${arg}}`;
}

/** A media type entry whose schema declares no content: none, or an object without properties. */
function isEmptyBody(media: unknown): boolean {
  const schema = isObject(media) ? media.schema : undefined;
  if (schema === undefined) return false;
  if (!isObject(schema)) return false;
  const props = schema.properties;
  return schema.type === 'object' && (props === undefined || (isObject(props) && Object.keys(props).length === 0)) && !hasComposition(schema);
}

/** Keywords that constrain the body beyond its listed properties: such a body stays one argument. */
function hasComposition(s: Json): boolean {
  return ['allOf', 'anyOf', 'oneOf', 'not', 'if', 'patternProperties', 'dependentSchemas'].some((k) => s[k] !== undefined) || (s.additionalProperties !== undefined && s.additionalProperties !== false);
}

/** The parameter's own name when it is a valid, free argument name; otherwise `<in>_<name>`, then numbered. */
function uniqueArg(name: string, where: string, taken: Set<string>): string {
  const base = NAME_OK.test(name) && !taken.has(name) ? name : `${where}_${name}`.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, MAX_NAME);
  let arg = base;
  for (let i = 2; taken.has(arg); i++) arg = `${base.slice(0, MAX_NAME - 4)}_${i}`;
  taken.add(arg);
  return arg;
}
