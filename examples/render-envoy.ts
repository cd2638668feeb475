/**
 * `node dist/examples/render-envoy.js [--host H] [--listen-address A] [--<name>-port P ...] [--out FILE]`:
 * envoy/envoy.yaml rendered (envoy-config.ts) to FILE or stdout. docker-compose runs it once
 * before Envoy starts, so the Envoy container uses the same envoy.yaml as every other runner,
 * pointed at the `gateway` service instead of 127.0.0.1.
 */
import { writeFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { readEnvoyTemplate, renderEnvoyConfig, type EnvoyPortName, type EnvoyPorts } from './envoy-config.js';
import { portValue } from './port-value.js';

const PORT_NAMES: readonly EnvoyPortName[] = ['admin', 'listener', 'extproc', 'broker', 'xds'];

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      host: { type: 'string' },
      'listen-address': { type: 'string' },
      out: { type: 'string' },
      ...Object.fromEntries(PORT_NAMES.map((name) => [`${name}-port`, { type: 'string' as const }])),
    },
    strict: true,
  });
  const flags = values as Record<string, string | undefined>;
  const ports: EnvoyPorts = {};
  for (const name of PORT_NAMES) {
    const text = flags[`${name}-port`];
    if (text === undefined) continue;
    ports[name] = portValue(`--${name}-port`, text);
  }
  const template = readEnvoyTemplate();
  const yaml = renderEnvoyConfig(template, ports, { host: values.host, listenAddress: values['listen-address'] });
  if (values.out) await writeFile(values.out, yaml);
  else process.stdout.write(yaml);
}

main().catch((err: unknown) => {
  process.stderr.write(`render-envoy: ${(err as Error).message}\n`);
  process.exit(2);
});
