import type { OidcVerifier } from './auth/oidc.js';
import type { Catalog } from './catalog/catalog.js';
import { OK, type Check } from './health.js';
import type { PolicyEngine } from './policy/engine.js';
import type { SessionStore } from './session/store.js';
import type { DefinitionPins } from './pinning/pins.js';

/**
 * The checks of one gateway core. Critical: the session store, the token issuer's keys and the
 * policy engine (without them every request fails). Not critical: the catalog source (a stale
 * Consul view still serves the last known catalog) and native backends whose discovery fails
 * (their last known tools stay listed; other backends are unaffected). Not critical either: pinned
 * definitions that drifted or await approval (drift is not an outage: the approved definition, or
 * nothing, is served; taking instances out of rotation would let any backend take the gateway down).
 */
export function coreChecks(parts: { sessions: SessionStore; verifier: OidcVerifier | undefined; policy: PolicyEngine; catalog: Catalog; pins?: DefinitionPins | undefined }): Check[] {
  const { sessions, verifier, policy, catalog, pins } = parts;
  return [
    { name: 'sessions', critical: true, run: () => (sessions.isConnected?.() ?? true ? OK : { ok: false, reason: 'the session store cannot be reached' }) },
    { name: 'auth', critical: true, run: () => verifier?.status() ?? OK },
    { name: 'policy', critical: true, run: () => policy.status?.() ?? OK },
    {
      name: 'catalogSource',
      critical: false,
      run: () => {
        const s = catalog.sourceStatus();
        return s.stale ? { ok: false, reason: `serving the last known catalog: ${s.error ?? 'the source cannot be reached'}` } : OK;
      },
    },
    {
      name: 'backends',
      critical: false,
      run: () => {
        const failing = [...catalog.discoveryFailures()].map(([name, why]) => `${name}: ${why}`);
        return failing.length === 0 ? OK : { ok: false, reason: `discovery failing (last known lists kept) for ${failing.join('; ')}` };
      },
    },
    ...(pins ? [{ name: 'pinning', critical: false, run: () => pins.health() }] : []),
  ];
}
