import { describe, expect, it } from 'vitest';
import { allMethods, describeMethod, serverCapabilities } from '../../src/mcp/methods.js';

describe('the one description of every MCP method', () => {
  it('describes each method once, and nothing it does not serve', () => {
    const names = allMethods().map((m) => m.method);
    expect(new Set(names).size).toBe(names.length);
    expect(describeMethod('sampling/createMessage')).toBeUndefined();
  });

  it('needs a session for everything but initialize', () => {
    expect(allMethods().filter((m) => !m.session).map((m) => m.method)).toEqual(['initialize']);
  });

  it('lets Envoy route only tool calls straight to a backend', () => {
    expect(allMethods().filter((m) => m.envoyDirect).map((m) => m.method)).toEqual(['tools/call']);
  });

  it('audits every routed request, and asks the policy about each but unsubscribing', () => {
    for (const m of allMethods()) {
      const routed = m.route.by !== 'gateway' && m.route.by !== 'aggregate';
      expect(m.audit === 'call', m.method).toBe(routed);
      if ((routed || m.route.by === 'aggregate') && m.method !== 'resources/unsubscribe') expect(m.policy, m.method).not.toBeNull();
    }
    expect(describeMethod('resources/unsubscribe')!.policy).toBeNull();
  });

  it('announces in initialize exactly the capabilities it serves', () => {
    expect(serverCapabilities()).toEqual({
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
    });
  });
});
