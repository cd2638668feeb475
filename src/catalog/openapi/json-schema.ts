/**
 * OpenAPI schema objects, dereferenced (a recursive schema is a cycle of shared objects), as
 * finite JSON Schema 2020-12 that clients and the gateway's argument check can use.
 */

/** How deep a schema is expanded; deeper (and recursive) parts accept any value. */
const MAX_DEPTH = 24;
/** Most schema nodes one tool's input schema may expand to (shared sub-schemas count each time). */
export const MAX_NODES = 20_000;

/** Why a schema cannot be used as is: an operation using it is skipped with this reason. */
export class SchemaProblem extends Error {}

/** Keywords with no meaning for argument validation, or that would clash once a schema is copied. */
const DROPPED = new Set(['$id', '$schema', '$anchor', '$dynamicAnchor', '$defs', 'definitions', '$comment', 'discriminator', 'xml', 'externalDocs', 'example', 'examples', 'nullable']);
/** Keywords whose value is a map of name → schema. */
const SCHEMA_MAPS = new Set(['properties', 'patternProperties', 'dependentSchemas']);
/** Keywords whose value is one schema. */
const SCHEMA_ONE = new Set(['items', 'additionalProperties', 'not', 'contains', 'propertyNames', 'if', 'then', 'else', 'unevaluatedItems', 'unevaluatedProperties', 'additionalItems']);
/** Keywords whose value is a list of schemas. */
const SCHEMA_LISTS = new Set(['allOf', 'anyOf', 'oneOf', 'prefixItems']);

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/**
 * Copy a schema as a tree: recursion (an object already being expanded) and anything deeper
 * than {@link MAX_DEPTH} become `{}`, so a cyclic document never hangs or overflows the stack;
 * OpenAPI 3.0's `nullable` and boolean `exclusiveMinimum`/`exclusiveMaximum` become their
 * JSON Schema forms; `x-` extensions and keywords that only document are left out. Throws a
 * {@link SchemaProblem} for a `$ref` that was not resolved or a schema past {@link MAX_NODES}.
 */
export function toJsonSchema(schema: unknown, budget = { nodes: MAX_NODES }): Json {
  return convert(schema, new Set(), 0, budget) as Json;
}

function convert(node: unknown, ancestors: Set<object>, depth: number, budget: { nodes: number }): Json | boolean {
  if (typeof node === 'boolean') return node;
  if (!isObject(node)) return {};
  if (ancestors.has(node) || depth >= MAX_DEPTH) return {};
  if (--budget.nodes < 0) throw new SchemaProblem(`its input schema expands to more than ${MAX_NODES} schema nodes`);
  if (typeof node.$ref === 'string') throw new SchemaProblem(`the $ref "${node.$ref}" could not be resolved (only references inside the document, or to local files for a file document, are followed)`);
  if (typeof node.$dynamicRef === 'string') throw new SchemaProblem(`$dynamicRef "${node.$dynamicRef}" is not supported`);
  ancestors.add(node);
  const out: Json = {};
  const sub = (v: unknown): Json | boolean => convert(v, ancestors, depth + 1, budget);
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key) || key.startsWith('x-')) continue;
    if (SCHEMA_MAPS.has(key) && isObject(value)) {
      const map: Json = {};
      for (const [name, s] of Object.entries(value)) {
        if (key === 'patternProperties') checkPattern(name);
        map[name] = sub(s);
      }
      out[key] = map;
    } else if (SCHEMA_ONE.has(key) && (isObject(value) || typeof value === 'boolean')) {
      out[key] = sub(value);
    } else if (SCHEMA_LISTS.has(key) && Array.isArray(value)) {
      out[key] = value.map(sub);
    } else if (key === 'items' && Array.isArray(value)) {
      out.prefixItems = value.map(sub); // draft-04 tuple form
    } else {
      if (key === 'pattern' && typeof value === 'string') checkPattern(value);
      out[key] = value;
    }
  }
  ancestors.delete(node);
  exclusiveBound(out, 'exclusiveMinimum', 'minimum');
  exclusiveBound(out, 'exclusiveMaximum', 'maximum');
  if (node.nullable === true) allowNull(out);
  return out;
}

/**
 * A pattern the argument check could not compile (ECMAScript with the `u` flag, as ajv compiles
 * it): such a schema would validate nothing, so its operation is skipped. Compiling every
 * schema instead would take seconds for large documents (the check compiles a tool's schema on its first call).
 */
function checkPattern(pattern: string): void {
  try {
    new RegExp(pattern, 'u');
  } catch {
    throw new SchemaProblem(`its schema has the pattern "${pattern}", which is not an ECMAScript regular expression`);
  }
}

/** OpenAPI 3.0's `exclusiveMaximum: true` next to `maximum: n` is 2020-12's `exclusiveMaximum: n`. */
function exclusiveBound(s: Json, exclusive: string, bound: string): void {
  if (typeof s[exclusive] !== 'boolean') return;
  if (s[exclusive] === true && typeof s[bound] === 'number') {
    s[exclusive] = s[bound];
    delete s[bound];
  } else {
    delete s[exclusive];
  }
}

/** OpenAPI 3.0's `nullable: true`: null is accepted too. */
function allowNull(s: Json): void {
  if (typeof s.type === 'string') s.type = [s.type, 'null'];
  else if (Array.isArray(s.type) && !s.type.includes('null')) s.type = [...s.type, 'null'];
  if (Array.isArray(s.enum) && !s.enum.includes(null)) s.enum = [...s.enum, null];
}
