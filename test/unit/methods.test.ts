import { describe, expect, it } from 'vitest';
import { allMethods, describeMethod, describeMethodIn, serverCapabilities } from '../../src/mcp/methods.js';

describe('the one description of every MCP method', () => {
  it('describes each method once, and nothing it does not serve', () => {
    const names = allMethods().map((m) => m.method);
    expect(new Set(names).size).toBe(names.length);
    expect(describeMethod('sampling/createMessage')).toBeUndefined();
  });

  it('needs a session for every session-era method but initialize', () => {
    expect(allMethods().filter((m) => !m.session && m.eras.includes('session')).map((m) => m.method)).toEqual(['initialize']);
  });

  it('serves to stateless clients only what their era has, and server/discover only to them', () => {
    const stateless = allMethods().filter((m) => m.eras.includes('stateless')).map((m) => m.method);
    expect(stateless).toEqual(['server/discover', 'subscriptions/listen', 'tools/list', 'tools/call', 'resources/list', 'resources/templates/list', 'resources/read', 'prompts/list', 'prompts/get', 'completion/complete', 'tasks/get', 'tasks/cancel', 'tasks/update']);
    expect(describeMethodIn('server/discover', 'session')).toBeUndefined();
    // The tasks extension polls with tasks/get: the session era's tasks/result is not in it, tasks/update only in it.
    expect(describeMethodIn('tasks/result', 'stateless')).toBeUndefined();
    expect(describeMethodIn('tasks/update', 'session')).toBeUndefined();
    expect(describeMethodIn('ping', 'stateless')).toBeUndefined();
  });

  it('announces to stateless clients what they can use: list changes and resource updates through subscriptions/listen, tasks as the extension', () => {
    expect(serverCapabilities('stateless')).toEqual({
      tools: { listChanged: true },
      resources: { listChanged: true, subscribe: true },
      prompts: { listChanged: true },
      completions: {},
      logging: {},
      extensions: { 'io.modelcontextprotocol/tasks': {} },
    });
  });

  it('serves the stateless tasks methods only to clients that declare the extension, each mirroring its task id in Mcp-Name', () => {
    for (const method of ['tasks/get', 'tasks/cancel', 'tasks/update']) {
      const spec = describeMethodIn(method, 'stateless')!;
      expect(spec.statelessExtension, method).toBe('io.modelcontextprotocol/tasks');
      expect(spec.mirrorsName, method).toBe('taskId');
    }
  });

  it('lets Envoy route only tool calls straight to a backend', () => {
    expect(allMethods().filter((m) => m.envoyDirect).map((m) => m.method)).toEqual(['tools/call']);
  });

  it('audits every routed request, and asks the policy about each but unsubscribing and tasks', () => {
    for (const m of allMethods()) {
      const routed = m.route.by !== 'gateway' && m.route.by !== 'aggregate';
      expect(m.audit === 'call', m.method).toBe(routed);
      // A task is reached only from the session whose call (decided by policy) created it.
      if ((routed || m.route.by === 'aggregate') && m.method !== 'resources/unsubscribe' && m.route.by !== 'task-id' && m.route.by !== 'session-tasks') expect(m.policy, m.method).not.toBeNull();
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
      tasks: { list: {}, cancel: {}, requests: { tools: { call: {} } } },
    });
  });

  it('lists tasks only for session clients: the tasks extension has no tasks/list', () => {
    expect(describeMethodIn('tasks/list', 'session')).toMatchObject({ route: { by: 'session-tasks' }, policy: null, audit: 'call', envoyDirect: false });
    expect(describeMethodIn('tasks/list', 'stateless')).toBeUndefined();
  });
});
