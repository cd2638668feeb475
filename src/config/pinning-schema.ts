/**
 * The `pinning` section: pinned tool and prompt definitions (docs/tool-pinning.md). A backend can
 * change what its tools say under the gateway (tool poisoning); pinning serves the definition an
 * operator (or the first sighting) approved until a change is approved too.
 */
import { z } from 'zod';

/** `trust-on-first-use`: the first definition seen is approved; `manual`: new entries stay hidden until approved; `off`: no pinning. */
export const pinningMode = z.enum(['off', 'trust-on-first-use', 'manual']);
/** What clients get while a backend serves a definition other than the approved one. */
export const driftAction = z.enum(['keep-approved', 'hide']);

/** Per-backend overrides, set by the operator: in `backends[]`, or in `catalog.consul.services` by service name (never by service meta: a service must not loosen its own pinning). */
export const backendPinning = z.object({ mode: pinningMode.optional(), onDrift: driftAction.optional() }).strict();

export const pinningSchema = z
  .object({
    mode: pinningMode.default('off'),
    onDrift: driftAction.default('keep-approved'),
    /**
     * Where approvals live. Default: `consul` when the catalog comes from Consul, else `hazelcast`
     * when sessions do, else `file` when `file` is set, else `memory`.
     */
    store: z.enum(['memory', 'file', 'hazelcast', 'consul']).optional(),
    /** The JSON file of the `file` store (one instance; survives restarts). */
    file: z.string().min(1).optional(),
    /** KV folder of the `consul` store (the Consul is `catalog.consul`'s). */
    consulPrefix: z.string().regex(/^[^/].*\/$/, 'must end with "/" and not start with "/"').default('mcp/approvals/'),
    /** IMap of the `hazelcast` store (the cluster is `sessions.hazelcast`'s). */
    hazelcastMapName: z.string().min(1).default('mcp-gateway-approvals'),
    /** How often each instance reads the shared approvals: the bound on how long an approval takes to apply everywhere. */
    syncIntervalMs: z.number().int().min(100).max(60_000).default(2_000),
    /** The scope an admin token must carry to list pending definitions and approve them. */
    adminScope: z.string().min(1).default('mcp-gateway:admin'),
  })
  .strict()
  .refine((p) => p.store !== 'file' || p.file !== undefined, { message: 'needs "file" when store is "file"', path: ['file'] })
  .prefault({});

export type PinningConfig = z.output<typeof pinningSchema>;
export type PinningMode = z.output<typeof pinningMode>;
export type DriftAction = z.output<typeof driftAction>;
export type BackendPinningConfig = z.output<typeof backendPinning>;
