import { spawn } from 'node:child_process';
import { connect } from 'node:net';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { startOrdersApi } from '../../examples/backends/orders-api.js';
import { freePorts } from '../harness/ports.js';
import { CLI, configFile, runCli as run } from '../support/cli.js';
import { startGatewayProcess, type GatewayProcess } from '../support/cli-process.js';
import { rawInitialize, rawPost, jsonOf } from '../support/gateway.js';
import { waitFor } from '../support/wait.js';
import { startSlowServer } from '../support/http-backends.js';

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Start the standalone CLI on a free loopback port; resolves once it logs that it listens. */
function startCli(file: string): Promise<GatewayProcess> {
  return startGatewayProcess(file, {}, ['--host', '127.0.0.1', '--port', '0']);
}

describe('mcp-gateway CLI', () => {
  it('keeps running and answers 503 while the OIDC issuer is unreachable at start (it used to exit 0)', async () => {
    const file = await configFile('logging: { level: info }\naudit: { sink: off }\nauth: { issuer: "http://127.0.0.1:1/", audience: "http://gw.test/mcp" }\n');
    const { child, url, exited } = await startCli(file);
    try {
      const init = { jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-11-25', capabilities: {}, clientInfo: { name: 'x', version: '1' } } };
      const res = await rawPost(url, undefined, init, { authorization: 'Bearer a.b.c' });
      expect(res.status).toBe(503);
      expect((await jsonOf(res)).error.data.code).toBe('GW_AUTH_UNAVAILABLE');
      expect(child.exitCode).toBeNull();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
    }
  });

  it('keeps running while OPA is unreachable at start, refusing calls with GW_POLICY_UNAVAILABLE (fail closed)', async () => {
    const api = await startOrdersApi();
    const file = await configFile(
      `logging: { level: info }\naudit: { sink: off }\npolicy: { engine: opa, url: "http://127.0.0.1:1" }\nbackends:\n  - name: orders\n    kind: rest\n    urls: ["${api.url}"]\n    tools: [{ name: get_order, http: { path: "/orders/{id}" } }]\n`,
    );
    const { child, url, exited } = await startCli(file);
    try {
      const { sessionId } = await rawInitialize(url);
      const res = await rawPost(url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1002' } } });
      expect((await jsonOf(res)).error.data.code).toBe('GW_POLICY_UNAVAILABLE');
      expect(child.exitCode).toBeNull();
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await api.close();
    }
  });

  describe('SIGTERM drains', () => {
    const slowConfig = async (url: string, graceMs: number, auditFile: string) =>
      configFile(
        `logging: { level: info }\nserver: { shutdownGraceMs: ${graceMs} }\naudit: { sink: file, file: "${auditFile}", flushIntervalMs: 0 }\nbackends:\n  - name: slow\n    kind: rest\n    urls: ["${url}"]\n    tools: [{ name: wait, http: { path: "/wait" } }]\n`,
      );
    const outcomes = async (file: string): Promise<string[]> =>
      (await readFile(file, 'utf8'))
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as { event: string; outcome: string })
        .filter((e) => e.event === 'mcp.tool_call')
        .map((e) => e.outcome);

    it('lets a running call finish within the grace period, refusing new connections meanwhile, then exits 0', async () => {
      const slow = await startSlowServer(1_500);
      const audit = join(await mkdtemp(join(tmpdir(), 'gw-audit-')), 'audit.jsonl');
      const { child, url, exited } = await startCli(await slowConfig(slow.url, 10_000, audit));
      try {
        const { sessionId } = await rawInitialize(url);
        const answer = rawPost(url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow_wait', arguments: {} } });
        await waitFor(() => slow.hits.count === 1, 'the call reached the backend');
        child.kill('SIGTERM');
        await waitFor(async () => !(await accepts(Number(new URL(url).port))), 'the listener closed');
        expect((await jsonOf(await answer)).result.structuredContent).toEqual({ late: true });
        expect(await exited).toBe(0);
        expect(await outcomes(audit)).toEqual(['ok']);
      } finally {
        child.kill('SIGKILL');
        await slow.close();
      }
    });

    it('cuts a call that outlives the grace period and records it as cut', async () => {
      const slow = await startSlowServer(30_000);
      const audit = join(await mkdtemp(join(tmpdir(), 'gw-audit-')), 'audit.jsonl');
      const { child, url, exited } = await startCli(await slowConfig(slow.url, 300, audit));
      try {
        const { sessionId } = await rawInitialize(url);
        const answer = rawPost(url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'slow_wait', arguments: {} } }).then(
          (r) => r.status,
          () => 'connection closed',
        );
        await waitFor(() => slow.hits.count === 1, 'the call reached the backend');
        child.kill('SIGTERM');
        expect(await exited).toBe(0);
        await answer;
        expect(await outcomes(audit)).toEqual(['cut']);
      } finally {
        child.kill('SIGKILL');
        await slow.close();
      }
    });
  });

  it('refuses an invalid configuration with exit code 2 and the bad key', async () => {
    const file = await configFile('server:\n  port: 99999\nbackends:\n  - name: x\n    kind: rest\n    urls: [not-a-url]\n    tools: [{ name: t, http: { path: / } }]\n');
    const { code, stderr } = await run(['standalone', '--config', file]);
    expect(code).toBe(2);
    expect(stderr).toContain('server.port');
    expect(stderr).toContain('backends[0].urls[0]: must be an http(s) URL');
  });

  it('explains its usage for a missing --config or unknown command', async () => {
    expect((await run(['standalone'])).stderr).toContain('missing --config');
    const unknown = await run(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('usage: mcp-gateway standalone --config');
  });

  it('serves MCP with a configuration file and stops cleanly on SIGTERM', async () => {
    const api = await startOrdersApi();
    const file = await configFile(
      `logging: { level: info }\nbackends:\n  - name: orders\n    kind: rest\n    urls: ["${api.url}"]\n    tools: [{ name: get_order, http: { path: "/orders/{id}" } }]\n`,
    );
    const { child, url, exited } = await startCli(file);
    try {
      const { sessionId } = await rawInitialize(url);
      const res = await rawPost(url, sessionId, { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'orders_get_order', arguments: { id: '1002' } } });
      expect((await jsonOf(res)).result.structuredContent.item).toBe('monitor');
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
    } finally {
      child.kill('SIGKILL');
      await api.close();
    }
  });

  it("runs the Envoy topology's gateway process: broker, ext_proc, xDS and admin endpoints on the ports asked for", async () => {
    const api = await startOrdersApi();
    const file = await configFile(
      `logging: { level: warn }\naudit: { sink: off }\nbackends:\n  - name: orders\n    kind: rest\n    urls: ["${api.url}"]\n    tools: [{ name: get_order, http: { path: "/orders/{id}" } }]\n`,
    );
    const [broker, extproc, xds, admin] = await freePorts(4);
    const args = ['envoy', '--config', file, '--host', '127.0.0.1', '--broker-port', String(broker), '--extproc-port', String(extproc), '--xds-port', String(xds), '--admin-port', String(admin)];
    const child = spawn(process.execPath, [CLI, ...args], { stdio: ['ignore', 'ignore', 'inherit'] });
    const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
    try {
      await waitFor(async () => child.exitCode === null && (await fetch(`http://127.0.0.1:${admin}/healthz`).then((r) => r.ok, () => false)), 'admin /healthz', 15_000);
      expect((await fetch(`http://127.0.0.1:${admin}/metrics`)).status).toBe(200);
      // The broker, which Envoy routes to, serves MCP (and /livez, for Envoy's health checks) only.
      expect((await fetch(`http://127.0.0.1:${broker}/healthz`)).status).toBe(404);
      expect((await fetch(`http://127.0.0.1:${broker}/metrics`)).status).toBe(404);
      expect(await accepts(extproc!)).toBe(true);
      expect(await accepts(xds!)).toBe(true);
      child.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await accepts(broker!)).toBe(false);
    } finally {
      child.kill('SIGKILL');
      await api.close();
    }
  });

  it('refuses a bad --xds-port with exit code 2', async () => {
    const { code, stderr } = await run(['envoy', '--config', 'unused.yaml', '--xds-port', 'ninety']);
    expect(code).toBe(2);
    expect(stderr).toContain('--xds-port must be a port number, got "ninety"');
  });
});
