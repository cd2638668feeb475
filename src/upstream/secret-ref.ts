/**
 * Secrets the configuration names by reference ({@link SecretRef}): read when used, so the
 * configuration never holds them and a rotated secret file is picked up without a restart.
 */
import { accessSync, constants } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/load.js';
import type { BackendConfig, BackendCredentialsConfig, ConsulSourceConfig, SecretRef } from '../config/schema.js';

/** What the reference points at, for messages (never the secret). */
export function describeSecretRef(ref: SecretRef): string {
  return 'env' in ref ? `environment variable ${ref.env}` : `file ${ref.file}`;
}

/** The secret's value (a file's content without its trailing newline); rejects with what is missing. */
export async function readSecret(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  let value: string | undefined;
  if ('env' in ref) value = env[ref.env];
  else {
    try {
      value = (await readFile(ref.file, 'utf8')).replace(/\r?\n$/, '');
    } catch (err) {
      throw new Error(`${describeSecretRef(ref)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, { cause: err });
    }
  }
  if (!value) throw new Error(`${describeSecretRef(ref)} is ${value === '' ? 'empty' : 'not set'}`);
  return value;
}

/** Why the reference cannot be resolved now, or undefined when it can (a check at start, before any call needs it). */
export function unresolvable(ref: SecretRef, env: NodeJS.ProcessEnv = process.env): string | undefined {
  if ('env' in ref) return env[ref.env] ? undefined : `${describeSecretRef(ref)} is not set`;
  try {
    accessSync(ref.file, constants.R_OK);
    return undefined;
  } catch (err) {
    return `${describeSecretRef(ref)} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`;
  }
}

/**
 * Refuse to start when a configured backend's secret (or a Consul service's, from
 * `catalog.consul.services`) cannot be found, rather than failing each call later: the message
 * names the key, as for any other bad configuration.
 */
export function assertSecretsResolvable(config: { readonly backends: readonly BackendConfig[]; readonly catalog: { readonly consul?: ConsulSourceConfig | undefined } }, env: NodeJS.ProcessEnv = process.env): void {
  const problems: string[] = [];
  const check = (credentials: BackendCredentialsConfig | undefined, key: string): void => {
    if (credentials?.type !== 'oauth2-token-exchange') return;
    const why = unresolvable(credentials.clientSecret, env);
    if (why) problems.push(`  ${key}.credentials.clientSecret: ${why}`);
  };
  config.backends.forEach((b, i) => check(b.credentials, `backends[${i}]`));
  for (const [name, s] of Object.entries(config.catalog.consul?.services ?? {})) check(s.credentials, `catalog.consul.services.${name}`);
  if (problems.length > 0) throw new ConfigError(`invalid configuration:\n${problems.join('\n')}`);
}
