/**
 * deploy/helm/mcp-gateway rendered by the real helm binary (scripts/install-components.sh builds
 * it), read back as the objects `helm install` would send to a cluster, and the pieces of a pod
 * a test needs to run the rendered containers here: the gateway's command line and files.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments, stringify } from 'yaml';
import { helmBin } from '../harness/components.js';
import { runToEnd, startProcess, type ProcessHandle } from '../harness/process.js';
import { makeTempDir, removeDir } from '../harness/tmp.js';

export const CHART_DIR = fileURLToPath(new URL('../../deploy/helm/mcp-gateway', import.meta.url));
export const ISTIO_DIR = fileURLToPath(new URL('../../deploy/istio', import.meta.url));

/** A Kubernetes object as rendered (only the fields tests read are typed). */
export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  spec?: any;
  data?: Record<string, string>;
}

export interface Container {
  name: string;
  args?: string[];
  command?: string[];
  ports?: { name: string; containerPort: number }[];
  env?: { name: string; value?: string; valueFrom?: any }[];
  envFrom?: { secretRef: { name: string } }[];
  securityContext?: Record<string, unknown>;
  volumeMounts?: { name: string; mountPath: string; subPath?: string }[];
  readinessProbe?: any;
  livenessProbe?: any;
  startupProbe?: any;
  restartPolicy?: string;
}

/** `helm <args>`: exit code and combined output. */
export function helm(args: readonly string[]): Promise<{ code: number | null; output: string }> {
  return runToEnd(helmBin(), args, { timeoutMs: 120_000 });
}

/** Writes values as a file helm takes with `-f`; the caller removes `dir`. */
export function valuesFile(dir: string, values: Record<string, unknown>, name = 'values.yaml'): string {
  const file = join(dir, name);
  writeFileSync(file, stringify(values));
  return file;
}

/** The objects of one `helm template` run. */
export class Rendered {
  constructor(readonly objects: readonly K8sObject[]) {}

  /** The one object of this kind (and name suffix); throws naming what exists otherwise. */
  one(kind: string, nameSuffix = ''): K8sObject {
    const found = this.all(kind).filter((o) => o.metadata.name.endsWith(nameSuffix));
    if (found.length !== 1) throw new Error(`expected one ${kind} named *${nameSuffix}, rendered: ${this.objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
    return found[0]!;
  }

  all(kind: string): K8sObject[] {
    return this.objects.filter((o) => o.kind === kind);
  }

  /** The gateway Deployment's pod spec. */
  get pod(): any {
    return this.one('Deployment').spec.template.spec;
  }

  /** A container of the gateway pod (init containers included: Envoy is a native sidecar). */
  container(name: string): Container {
    const all: Container[] = [...(this.pod.initContainers ?? []), ...this.pod.containers];
    const found = all.find((c) => c.name === name);
    if (!found) throw new Error(`no container ${name} in the gateway pod: ${all.map((c) => c.name).join(', ')}`);
    return found;
  }

  /** The gateway's configuration file as rendered (gateway.yaml of the main ConfigMap). */
  get gatewayYaml(): string {
    return this.one('ConfigMap', this.one('Deployment').metadata.name).data!['gateway.yaml']!;
  }

  /** Envoy's bootstrap as rendered. */
  get envoyYaml(): string {
    return this.one('ConfigMap', '-envoy').data!['envoy.yaml']!;
  }
}

/** The value after `flag` in a command line. */
export function flagValue(args: readonly string[] | undefined, flag: string): string | undefined {
  const i = args?.indexOf(flag) ?? -1;
  return i >= 0 ? args![i + 1] : undefined;
}

/** A container port's number by name. */
export function containerPort(container: Container, name: string): number {
  const port = container.ports?.find((p) => p.name === name);
  if (!port) throw new Error(`container ${container.name} has no port ${name}`);
  return port.containerPort;
}

/** Every YAML file under `dir`, recursively (helm's --output-dir layout). */
function yamlFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? yamlFiles(path) : path.endsWith('.yaml') ? [path] : [];
  });
}

/**
 * `helm template` of the chart with `values` (and value files), in `namespace` as `release`.
 * Rejects with helm's output when helm refuses; `renderError` is the way to expect that.
 */
export async function renderChart(opts: { values?: Record<string, unknown>; valueFiles?: string[]; release?: string; namespace?: string; extraArgs?: string[] } = {}): Promise<Rendered> {
  const { code, output, objects } = await template(opts);
  if (code !== 0) throw new Error(`helm template failed (${code}):\n${output}`);
  return new Rendered(objects);
}

/** helm's output for values it must refuse; rejects when helm renders them. */
export async function renderError(values: Record<string, unknown>, extraArgs: string[] = []): Promise<string> {
  const { code, output } = await template({ values, extraArgs });
  if (code === 0) throw new Error(`helm template accepted ${JSON.stringify(values)}`);
  return output;
}

async function template(opts: { values?: Record<string, unknown>; valueFiles?: string[]; release?: string; namespace?: string; extraArgs?: string[] }): Promise<{ code: number | null; output: string; objects: K8sObject[] }> {
  const dir = makeTempDir('helm');
  try {
    const out = join(dir, 'out');
    mkdirSync(out);
    const files = [...(opts.valueFiles ?? []), ...(opts.values ? [valuesFile(dir, opts.values)] : [])];
    const args = ['template', opts.release ?? 'gw', CHART_DIR, '--namespace', opts.namespace ?? 'mcp', '--output-dir', out, ...files.flatMap((f) => ['-f', f]), ...(opts.extraArgs ?? [])];
    const { code, output } = await helm(args);
    if (code !== 0) return { code, output, objects: [] };
    const objects = yamlFiles(out).flatMap((file) =>
      parseAllDocuments(readFileSync(file, 'utf8'))
        .map((doc) => doc.toJS() as K8sObject | null)
        .filter((o): o is K8sObject => o !== null),
    );
    return { code, output, objects };
  } finally {
    removeDir(dir);
  }
}

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

/**
 * The rendered gateway container run here as a process: its own command line (the image's
 * entrypoint is `node dist/src/cli.js`) with the rendered gateway.yaml, ready when its rendered
 * readiness probe passes. Needs `npm run build`.
 */
export async function startRenderedGateway(rendered: Rendered): Promise<ProcessHandle> {
  const gateway = rendered.container('gateway');
  const mount = gateway.volumeMounts!.find((m) => m.name === 'config')!.mountPath;
  const dir = makeTempDir('helm-gateway');
  const config = join(dir, 'gateway.yaml');
  writeFileSync(config, rendered.gatewayYaml);
  const args = gateway.args!.map((arg) => (arg === mount ? config : arg));
  const probe = gateway.readinessProbe.httpGet as { path: string; port: string };
  const readyUrl = `http://127.0.0.1:${containerPort(gateway, probe.port)}${probe.path}`;
  return startProcess({
    name: 'gateway (rendered)',
    cmd: process.execPath,
    args: [CLI, ...args],
    cleanup: () => removeDir(dir),
    ready: async () => (await fetch(readyUrl)).ok,
  });
}
