import { isObject, type JsonRpcRequest } from './jsonrpc.js';
import { describeServerRequest, RELAYED_CAPABILITIES, type RelayedCapability } from './methods.js';

/** The sub-features of each relayed capability the specification defines (flags are `true`, the rest objects). */
const SUB_FEATURES: Readonly<Record<RelayedCapability, readonly string[]>> = {
  sampling: ['context', 'tools'],
  elicitation: ['form', 'url'],
  roots: ['listChanged'],
};
const FLAGS: ReadonlySet<string> = new Set(['listChanged']);

/**
 * The part of a client's declared capabilities that backend sessions opened for it carry:
 * only what the gateway relays (src/mcp/methods.ts), so a backend offers a client exactly the
 * conditional features that client can use, and nothing the gateway would drop. Normalised to the
 * sub-features the specification defines, each empty: the shape names a gateway-held record
 * (src/session/held.ts), so keys nobody reads must not make a new one (a few dozen shapes at most).
 */
export function relayedCapabilities(client: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const c of RELAYED_CAPABILITIES) {
    const declared = client[c];
    if (!isObject(declared)) continue;
    const kept: Record<string, unknown> = {};
    for (const f of SUB_FEATURES[c]) {
      if (FLAGS.has(f) ? declared[f] === true : isObject(declared[f])) kept[f] = FLAGS.has(f) ? true : {};
    }
    out[c] = kept;
  }
  return out;
}

/** Whether the client declared any capability a backend request needs (its calls must pass where requests are relayed). */
export function answersServerRequests(client: Readonly<Record<string, unknown>>): boolean {
  return RELAYED_CAPABILITIES.some((c) => isObject(client[c]));
}

/**
 * Every relayed capability at its fullest: what catalog discovery declares, so the catalog holds
 * each tool a backend offers to the most capable client (per-session filtering narrows it).
 */
export const FULL_RELAYED_CAPABILITIES: Readonly<Record<string, Record<string, unknown>>> = Object.freeze({
  sampling: {},
  elicitation: { form: {}, url: {} },
  roots: { listChanged: true },
});

/**
 * The capabilities a discovery pass declares: all of them, or all but one feature (`sampling`,
 * `elicitation`, `elicitation.url`, `roots`), to learn which tools need that feature.
 */
export function capabilitiesWithout(feature: string | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = structuredClone(FULL_RELAYED_CAPABILITIES);
  if (feature === 'elicitation.url') out.elicitation = { form: {} };
  else if (feature) delete out[feature];
  return out;
}

/** The features discovery probes one at a time (see {@link capabilitiesWithout}). */
export const PROBED_FEATURES: readonly string[] = ['sampling', 'elicitation', 'elicitation.url', 'roots'];

/** Whether a client declared a feature named as in {@link PROBED_FEATURES}. */
export function declares(client: Readonly<Record<string, unknown>>, feature: string): boolean {
  if (feature !== 'elicitation.url') return isObject(client[feature]);
  const e = client.elicitation;
  return isObject(e) && isObject(e.url);
}

/**
 * Why this client cannot take a backend's request, or undefined when it can: it never declared
 * the capability the method needs (URL-mode elicitation needs `elicitation.url`; an empty
 * `elicitation` object means form mode, as the spec keeps it for older clients).
 */
export function missingCapability(client: Readonly<Record<string, unknown>>, request: JsonRpcRequest): string | undefined {
  const spec = describeServerRequest(request.method);
  if (!spec) return `the gateway does not relay "${request.method}"`;
  if (!isObject(client[spec.capability])) return `the client did not declare "${spec.capability}"`;
  if (spec.capability !== 'elicitation') return undefined;
  const mode = request.params?.mode ?? 'form';
  const e = client.elicitation as Record<string, unknown>;
  if (mode === 'url' && !isObject(e.url)) return 'the client did not declare URL-mode elicitation';
  if (mode === 'form' && Object.keys(e).length > 0 && !isObject(e.form)) return 'the client did not declare form-mode elicitation';
  return undefined;
}

/** Whether a client's capabilities declare an extension (`extensions[name]`, an object of its settings). */
export function declaresExtension(capabilities: Readonly<Record<string, unknown>>, name: string): boolean {
  const ext = capabilities.extensions;
  return isObject(ext) && isObject(ext[name]);
}

/** The `error.data` of a -32021 (missing required client capability): the extension, in the shape of client capabilities. */
export function requiredExtension(name: string): Record<string, unknown> {
  return { requiredCapabilities: { extensions: { [name]: {} } } };
}

/**
 * The capabilities a backend's request needs, as the 2026-07-28 MissingRequiredClientCapability
 * error names them: a ClientCapabilities object (`{ "sampling": {} }`, `{ "elicitation": { "url": {} } }`).
 */
export function requiredCapabilities(request: JsonRpcRequest): Record<string, unknown> {
  const spec = describeServerRequest(request.method);
  if (!spec) return {};
  if (spec.capability !== 'elicitation') return { [spec.capability]: {} };
  return { elicitation: { [request.params?.mode === 'url' ? 'url' : 'form']: {} } };
}
