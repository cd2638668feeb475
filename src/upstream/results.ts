import { ERROR_META_KEY, errorText, type ErrorCode } from '../errors.js';

export { ERROR_META_KEY };

/** A `tools/call` result the model can act on, with the gateway's error code in `_meta`. */
export function toolError(code: ErrorCode, detail: string | undefined): Record<string, unknown> {
  return {
    content: [{ type: 'text', text: errorText(code, detail) }],
    isError: true,
    _meta: { [ERROR_META_KEY]: code },
  };
}

/** A successful result carrying JSON: structured content for programs, the same JSON as text for models. */
export function jsonResult(value: unknown): Record<string, unknown> {
  const structuredContent = value !== null && typeof value === 'object' && !Array.isArray(value) ? value : { result: value };
  return { content: [{ type: 'text', text: JSON.stringify(value) }], structuredContent };
}

export function textResult(text: string): Record<string, unknown> {
  return { content: [{ type: 'text', text }] };
}
