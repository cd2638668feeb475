import { hkdfSync, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { ConfigError } from '../config/load.js';

/** Where the secret behind stateless callers' keys comes from: an environment variable or a file. */
export type SecretRef = { readonly env: string } | { readonly file: string };

/** Fewest bytes a configured secret must have: the keys derived from it are 256 bits. */
const MIN_SECRET_BYTES = 32;

/**
 * The keys the gateway derives from one shared secret (`stateless.stateKey`): one seals
 * `requestState` (AES-256-GCM), one names each caller's gateway-held session record (HMAC).
 * Every instance of a deployment must derive the same keys, so each can open what another
 * sealed and find the records another created; without a configured secret a random one is
 * drawn per process, which is right for one instance only.
 */
export interface StateKeys {
  readonly seal: Buffer;
  readonly name: Buffer;
  /** False when the keys were drawn at random (no `stateless.stateKey` configured). */
  readonly shared: boolean;
}

/** The keys from the configured secret, or random ones; rejects with ConfigError for a missing or short secret. */
export async function loadStateKeys(ref: SecretRef | undefined, env: NodeJS.ProcessEnv = process.env): Promise<StateKeys> {
  if (!ref) return derive(randomBytes(32), false);
  let secret: Buffer;
  if ('env' in ref) {
    const v = env[ref.env];
    if (!v) throw new ConfigError(`invalid configuration:\n  stateless.stateKey.env: environment variable ${ref.env} is not set`);
    secret = Buffer.from(v, 'utf8');
  } else {
    try {
      secret = Buffer.from((await readFile(ref.file, 'utf8')).trim(), 'utf8');
    } catch (err) {
      throw new ConfigError(`invalid configuration:\n  stateless.stateKey.file: cannot read ${ref.file}: ${(err as Error).message}`);
    }
  }
  if (secret.length < MIN_SECRET_BYTES) throw new ConfigError(`invalid configuration:\n  stateless.stateKey: the secret has ${secret.length} bytes; at least ${MIN_SECRET_BYTES} are needed`);
  return derive(secret, true);
}

function derive(secret: Buffer, shared: boolean): StateKeys {
  const key = (info: string): Buffer => Buffer.from(hkdfSync('sha256', secret, 'mcp-gateway', info, 32));
  return { seal: key('requestState/aes-256-gcm'), name: key('held-session/hmac-sha256'), shared };
}
