import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

// ajv-formats is CommonJS; under NodeNext its default export arrives wrapped.
type AddFormats = (ajv: Ajv2020) => unknown;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ?? addFormatsModule) as unknown as AddFormats;

/** Result of checking tool arguments: `null` when valid, otherwise a message a model can act on. */
export type ArgumentCheck = (args: unknown) => string | null;

// Unknown formats (vendor ones such as Kubernetes' "int-or-string") are ignored; ajv's own
// logger would print a warning for each to the console, outside the structured log.
const ajv = new Ajv2020({ strict: false, allErrors: true, addUsedSchema: false, validateSchema: false, logger: false });
addFormats(ajv);

/** Compiled validators shared by identical schemas, so catalog rebuilds do not recompile. */
const cache = new Map<string, ValidateFunction>();

/** Older drafts declared with `$schema` are checked with 2020-12 semantics, which covers what tool schemas use. */
function normalize(schema: Record<string, unknown>): Record<string, unknown> {
  if (typeof schema.$schema === 'string' && !schema.$schema.includes('2020-12')) {
    const { $schema: _drop, ...rest } = schema;
    return rest;
  }
  return schema;
}

/** Compile (or reuse) a validator for a tool's JSON Schema 2020-12 input schema. Throws if the schema does not compile. */
export function compileArgumentCheck(schema: Record<string, unknown>): ArgumentCheck {
  const key = JSON.stringify(schema);
  let validate = cache.get(key);
  if (!validate) {
    validate = ajv.compile(normalize(schema));
    cache.set(key, validate);
  }
  const fn = validate;
  return (args) => (fn(args) ? null : ajv.errorsText(fn.errors, { dataVar: 'arguments', separator: '; ' }));
}
