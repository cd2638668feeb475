/**
 * `npm run topology`: the Envoy topology on one machine. The example backends, the gateway process
 * (broker, ext_proc and xDS from one core: `runExtProc`) with examples/gateway.yaml, and the real
 * Envoy with envoy/envoy.yaml rendered for the ports they bound. Ctrl+C stops all of it.
 *
 * ENVOY_PORT (10000) and ENVOY_ADMIN_PORT (9901) move Envoy; GATEWAY_PORT (8080) the broker;
 * ENVOY_BIN picks the Envoy binary.
 */
import { runExtProc, type RunningExtProc } from '../src/extproc/run.js';
import { readEnvoyTemplate, renderEnvoyConfig } from './envoy-config.js';
import { findEnvoy, startEnvoyProcess, type EnvoyProcess } from './envoy-process.js';
import { startExampleStack, type ExampleStack } from './example-stack.js';
import { portValue } from './port-value.js';

async function main(): Promise<void> {
  // Everything that can fail without side effects first: a missing Envoy should not leave servers behind.
  const listener = portValue('ENVOY_PORT', process.env.ENVOY_PORT || '10000');
  const adminPort = portValue('ENVOY_ADMIN_PORT', process.env.ENVOY_ADMIN_PORT || '9901');
  const bin = findEnvoy();
  const template = readEnvoyTemplate();

  // Started in order, stopped in reverse: on a failed start too, so nothing is left behind.
  const started: Array<() => Promise<void>> = [];
  const stopAll = async (): Promise<void> => {
    for (const stopOne of started.reverse()) await stopOne();
  };
  let envoy: EnvoyProcess;
  let gateway: RunningExtProc;
  let stack: ExampleStack;
  try {
    stack = await startExampleStack();
    started.push(() => stack.close());
    gateway = await runExtProc(stack.config);
    started.push(() => gateway.stop());
    const ports = { listener, admin: adminPort, extproc: gateway.extprocPort, broker: Number(new URL(gateway.brokerUrl).port), xds: gateway.xdsPort };
    envoy = await startEnvoyProcess({ bin, configYaml: renderEnvoyConfig(template, ports), adminPort });
    started.push(() => envoy.stop());
  } catch (err) {
    await stopAll();
    throw err;
  }
  // Whatever ends this process, Envoy must not outlive it.
  process.once('exit', () => envoy.child.kill('SIGKILL'));

  const endpoint = `http://127.0.0.1:${listener}/mcp`;
  process.stdout.write(`
MCP gateway (Envoy topology) ready at ${endpoint}
  envoy:    ${bin} (admin http://127.0.0.1:${adminPort})
  gateway:  broker ${gateway.brokerUrl}, ext_proc 127.0.0.1:${gateway.extprocPort}, xDS 127.0.0.1:${gateway.xdsPort}
            health and metrics ${gateway.adminUrl}/healthz, ${gateway.adminUrl}/metrics
  backends: orders (REST) at ${stack.orders.url}, notes (MCP) at ${stack.notes.url}
  try it:   npx @modelcontextprotocol/inspector  → Streamable HTTP → ${endpoint}
  stop:     Ctrl+C
`);

  let stopping = false;
  const stop = async (code: number): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await stopAll();
    process.exit(code);
  };
  process.once('SIGINT', () => void stop(0));
  process.once('SIGTERM', () => void stop(0));
  void envoy.exited.then((how) => {
    if (stopping) return;
    process.stderr.write(`envoy exited unexpectedly (${String(how)}); stopping\n`);
    void stop(1);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`topology: ${(err as Error).message}\n`);
  process.exit(1);
});
