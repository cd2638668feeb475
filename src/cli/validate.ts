/**
 * `mcp-gateway validate`: everything about a configuration that can be known without starting
 * anything, so a deployment pipeline refuses a bad one before it reaches a gateway. A gateway
 * with a missing policy file or a service snippet OPA rejects still starts (it logs and leaves
 * the policy out, and fails closed); this is where those mistakes become an exit code.
 */
import { access, constants, readFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { ConfigError, loadConfigFile } from '../config/load.js';
import type { GatewayConfig } from '../config/schema.js';
import { packageFilePath } from '../package-file.js';
import { BASE_MODULE_FILE, declaresOwnPackage } from '../policy/modules.js';
import { UsageError } from './options.js';
import { regoErrors } from './rego-check.js';

/** What `validate` found: `problems` make the configuration invalid; `checked` says what was looked at. */
export interface Validation {
  readonly problems: readonly string[];
  readonly checked: readonly string[];
  /** Checks that could not run (no opa binary): the configuration is not known to be invalid. */
  readonly skipped: readonly string[];
}

/** A Rego file the configuration names, with the key that names it. */
interface RegoFile {
  readonly key: string;
  readonly path: string;
  /** For a service snippet: the service whose package it must declare. */
  readonly service?: string;
}

function regoFiles(config: Readonly<GatewayConfig>): RegoFile[] {
  if (config.policy.engine !== 'opa') return [];
  return [
    ...config.policy.policyFiles.map((path, i) => ({ key: `policy.policyFiles[${i}]`, path })),
    ...Object.entries(config.policy.servicePolicies).map(([service, path]) => ({ key: `policy.servicePolicies.${service}`, path, service })),
  ];
}

/** The files the configuration names: each must be readable, and a service snippet must speak for its own service. */
async function checkFiles(config: Readonly<GatewayConfig>, files: readonly RegoFile[]): Promise<{ problems: string[]; readable: RegoFile[] }> {
  const problems: string[] = [];
  const readable: RegoFile[] = [];
  for (const file of files) {
    let text: string;
    try {
      text = await readFile(file.path, 'utf8');
    } catch (err) {
      problems.push(`${file.key}: cannot read ${file.path} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
      continue;
    }
    readable.push(file);
    if (file.service !== undefined && !declaresOwnPackage(text, file.service)) {
      problems.push(`${file.key}: ${file.path} must declare package mcp.services.${file.service} (the gateway would leave it out)`);
    }
  }
  if (config.audit.sink === 'file' && config.audit.file !== undefined) {
    const dir = dirname(resolve(config.audit.file));
    try {
      await access(dir, constants.W_OK);
    } catch (err) {
      problems.push(`audit.file: cannot write in ${dir} (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  return { problems, readable };
}

/** Check `file`; `opa` is the binary that compiles its Rego (undefined: Rego is not compiled). */
export async function validateConfigFile(file: string, opa: string | undefined): Promise<Validation> {
  let config: Readonly<GatewayConfig>;
  try {
    config = await loadConfigFile(file);
  } catch (err) {
    if (err instanceof ConfigError) return { problems: [err.message], checked: [], skipped: [] };
    throw err;
  }
  const checked = [`schema: ok (policy engine ${config.policy.engine}, ${config.backends.length} backend(s) declared)`];
  const rego = regoFiles(config);
  const { problems, readable } = await checkFiles(config, rego);
  const named = rego.length + (config.audit.sink === 'file' ? 1 : 0);
  if (problems.length === 0) checked.push(`files: ${named === 0 ? 'none named' : `${named} named, all readable`}`);
  const skipped: string[] = [];
  if (config.policy.engine !== 'opa') {
    checked.push(`rego: none (policy engine ${config.policy.engine})`);
  } else if (opa === undefined) {
    skipped.push('rego: not compiled, no opa binary (give --opa <path> or OPA_BIN, or put opa on PATH)');
  } else {
    // The base module is part of every OPA the gateway loads, so files are compiled against it.
    const errors = await regoErrors(opa, [packageFilePath(BASE_MODULE_FILE), ...readable.map((f) => f.path)]).catch((err: unknown) => {
      throw new UsageError(`--opa (or OPA_BIN): ${(err as Error).message}`);
    });
    if (errors.length === 0) checked.push(`rego: ${readable.length + 1} module(s) compile together (${opa} check, with the gateway's base module)`);
    else problems.push(...errors.map((e) => `rego: ${e}`));
  }
  return { problems, checked, skipped };
}
