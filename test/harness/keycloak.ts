/**
 * A real Keycloak (the server distribution, dev mode, H2 database) on free loopback ports, with
 * one realm imported from a JSON file at start. Each server runs from a private home of its own:
 * its database, imported realm and build files live there; the large read-only parts (jars,
 * themes) are links into the shared install, which the server therefore never writes.
 */
import { copyFileSync, cpSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { keycloakHome } from './components.js';
import { freePorts } from './ports.js';
import { probe, startProcess } from './process.js';
import { makeTempDir, removeDir } from './tmp.js';

export interface KeycloakHandle {
  /** e.g. `http://127.0.0.1:41234` */
  readonly url: string;
  readonly realm: string;
  /** The realm's issuer (`iss` of its tokens), `${url}/realms/${realm}`. */
  readonly issuer: string;
  readonly tokenUrl: string;
  /** From spawn until the realm's discovery document answered. */
  readonly startMs: number;
  /** A token of the realm: `password` grant for a user, or `client_credentials` with a secret. */
  token(form: Record<string, string>): Promise<string>;
  /** Admin REST API of the realm (`/admin/realms/<realm>` + path), as the bootstrap admin. */
  admin(path: string, init?: { method?: string; body?: unknown }): Promise<Response>;
  stop(): Promise<void>;
  output(): string;
}

const ADMIN = { username: 'admin', password: 'admin-pw' };

/** Start Keycloak with `realmFile` imported; dev mode takes 20-60 s on 2 quiet cores, minutes on busy ones. */
export async function startKeycloak(opts: { realmFile: string; timeoutMs?: number }): Promise<KeycloakHandle> {
  const dist = keycloakHome();
  const realm = (JSON.parse(readFileSync(opts.realmFile, 'utf8')) as { realm: string }).realm;
  const home = privateHome(dist);
  // --import-realm reads <home>/data/import; the file name must be <realm>-realm.json.
  mkdirSync(join(home, 'data', 'import'), { recursive: true });
  copyFileSync(opts.realmFile, join(home, 'data', 'import', `${realm}-realm.json`));
  const [port, managementPort] = await freePorts(2);
  const url = `http://127.0.0.1:${port}`;
  const issuer = `${url}/realms/${realm}`;
  const started = Date.now();
  const handle = await startProcess({
    name: 'keycloak',
    cmd: join(home, 'bin', 'kc.sh'),
    args: ['start-dev', '--import-realm', '--http-host=127.0.0.1', `--http-port=${port}`, `--http-management-port=${managementPort}`],
    env: { KC_BOOTSTRAP_ADMIN_USERNAME: ADMIN.username, KC_BOOTSTRAP_ADMIN_PASSWORD: ADMIN.password },
    timeoutMs: opts.timeoutMs ?? 300_000,
    pollMs: 500,
    ready: async () => (await probe(`${issuer}/.well-known/openid-configuration`)).ok,
    cleanup: () => removeDir(home),
  });
  const startMs = Date.now() - started;
  const tokenUrl = `${issuer}/protocol/openid-connect/token`;
  const token = async (form: Record<string, string>, at = tokenUrl): Promise<string> => {
    const res = await fetch(at, { method: 'POST', body: new URLSearchParams(form) });
    const body = (await res.json()) as { access_token?: string; error?: string; error_description?: string };
    if (!res.ok || !body.access_token) throw new Error(`keycloak token request failed: HTTP ${res.status} ${body.error ?? ''} ${body.error_description ?? ''}`);
    return body.access_token;
  };
  return {
    url,
    realm,
    issuer,
    tokenUrl,
    startMs,
    token: (form) => token(form),
    async admin(path, init = {}) {
      // Short-lived (60 s): asked again per call, which is cheap next to what the tests do.
      const adminToken = await token({ grant_type: 'password', client_id: 'admin-cli', ...ADMIN }, `${url}/realms/master/protocol/openid-connect/token`);
      return fetch(`${url}/admin/realms/${realm}${path}`, {
        method: init.method ?? 'GET',
        headers: { authorization: `Bearer ${adminToken}`, ...(init.body === undefined ? {} : { 'content-type': 'application/json' }) },
        ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
      });
    },
    stop: () => handle.stop(20_000),
    output: () => handle.output(),
  };
}

/**
 * A Keycloak home of links to the shared distribution, except what a server writes: `data/`,
 * `conf/`, and `lib/quarkus` (rewritten when the build options differ from the install's).
 * `bin/kc.sh` is copied, since it finds its home from its own resolved path.
 */
function privateHome(dist: string): string {
  const home = makeTempDir('keycloak');
  mkdirSync(join(home, 'bin'));
  copyFileSync(join(dist, 'bin', 'kc.sh'), join(home, 'bin', 'kc.sh'));
  cpSync(join(dist, 'conf'), join(home, 'conf'), { recursive: true });
  mkdirSync(join(home, 'lib'));
  cpSync(join(dist, 'lib', 'quarkus'), join(home, 'lib', 'quarkus'), { recursive: true });
  copyFileSync(join(dist, 'lib', 'quarkus-run.jar'), join(home, 'lib', 'quarkus-run.jar'));
  for (const d of ['lib/app', 'lib/lib', 'providers', 'themes']) symlinkSync(join(dist, d), join(home, d));
  return home;
}
