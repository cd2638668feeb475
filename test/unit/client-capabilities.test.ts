import { describe, expect, it } from 'vitest';
import { answersServerRequests, capabilitiesWithout, declares, missingCapability, relayedCapabilities } from '../../src/mcp/client-capabilities.js';
import { logVisible } from '../../src/mcp/log-level.js';
import { describeServerRequest, RELAYED_CAPABILITIES } from '../../src/mcp/methods.js';

const ask = (method: string, params: Record<string, unknown> = {}) => ({ jsonrpc: '2.0' as const, id: 1, method, params });

describe('client capabilities the gateway relays', () => {
  it('backend sessions carry only the relayed part of what the client declared', () => {
    expect(relayedCapabilities({ sampling: { tools: {} }, roots: { listChanged: true }, experimental: { x: {} }, elicitation: 'no' })).toEqual({ sampling: { tools: {} }, roots: { listChanged: true } });
    // Normalised to the sub-features the specification defines, their contents emptied.
    expect(relayedCapabilities({ sampling: { context: { x: 1 }, junk: 1 }, elicitation: { url: {}, form: 'no', y: {} }, roots: { listChanged: 'yes' } })).toEqual({
      sampling: { context: {} },
      elicitation: { url: {} },
      roots: {},
    });
    expect(answersServerRequests({ experimental: {} })).toBe(false);
    expect(answersServerRequests({ roots: {} })).toBe(true);
  });

  it('every server request the table describes needs one of the relayed capabilities', () => {
    for (const m of ['sampling/createMessage', 'elicitation/create', 'roots/list']) expect(RELAYED_CAPABILITIES).toContain(describeServerRequest(m)!.capability);
    expect(describeServerRequest('tools/call')).toBeUndefined();
  });

  it('a request is refused when the client did not declare its capability, or its elicitation mode', () => {
    expect(missingCapability({}, ask('sampling/createMessage'))).toMatch(/"sampling"/);
    expect(missingCapability({ sampling: {} }, ask('sampling/createMessage'))).toBeUndefined();
    expect(missingCapability({ sampling: {} }, ask('ping'))).toMatch(/does not relay/);
    // An empty elicitation object means form mode only (older clients).
    expect(missingCapability({ elicitation: {} }, ask('elicitation/create'))).toBeUndefined();
    expect(missingCapability({ elicitation: {} }, ask('elicitation/create', { mode: 'url' }))).toMatch(/URL-mode/);
    expect(missingCapability({ elicitation: { url: {} } }, ask('elicitation/create', { mode: 'url' }))).toBeUndefined();
    expect(missingCapability({ elicitation: { url: {} } }, ask('elicitation/create'))).toMatch(/form-mode/);
    expect(missingCapability({ roots: {} }, ask('roots/list'))).toBeUndefined();
  });

  it('discovery probes leave out one feature at a time', () => {
    expect(capabilitiesWithout(undefined)).toEqual({ sampling: {}, elicitation: { form: {}, url: {} }, roots: { listChanged: true } });
    expect(capabilitiesWithout('elicitation.url')).toEqual({ sampling: {}, elicitation: { form: {} }, roots: { listChanged: true } });
    expect(Object.keys(capabilitiesWithout('sampling'))).toEqual(['elicitation', 'roots']);
    expect(declares({ elicitation: {} }, 'elicitation')).toBe(true);
    expect(declares({ elicitation: {} }, 'elicitation.url')).toBe(false);
  });
});

describe('log levels', () => {
  it('passes messages at or above the level the client set, and all before it sets one', () => {
    expect(logVisible(undefined, 'debug')).toBe(true);
    expect(logVisible('warning', 'info')).toBe(false);
    expect(logVisible('warning', 'warning')).toBe(true);
    expect(logVisible('warning', 'emergency')).toBe(true);
    expect(logVisible('warning', 'bogus')).toBe(true);
  });
});
