/** The filter of a stateless client's `subscriptions/listen` request (2026-07-28 SubscriptionFilter). */
import { isObject } from './jsonrpc.js';

/** What a client may ask to hear on a listen stream (SubscriptionFilter). */
export interface ListenFilter {
  readonly toolsListChanged?: boolean;
  readonly promptsListChanged?: boolean;
  readonly resourcesListChanged?: boolean;
  readonly resourceSubscriptions?: readonly string[];
}

/** Most resources one listen request may subscribe to: each costs a policy decision and a backend request. */
export const MAX_RESOURCE_SUBSCRIPTIONS = 100;

/** The filter a listen request asks for, or why it is malformed. */
export function readListenFilter(raw: unknown): { ok: true; filter: ListenFilter } | { ok: false; detail: string } {
  if (!isObject(raw)) return { ok: false, detail: '"notifications" must be an object' };
  const out: { -readonly [K in keyof ListenFilter]: ListenFilter[K] } = {};
  for (const key of ['toolsListChanged', 'promptsListChanged', 'resourcesListChanged'] as const) {
    const v = raw[key];
    if (v === undefined) continue;
    if (typeof v !== 'boolean') return { ok: false, detail: `"notifications.${key}" must be a boolean` };
    out[key] = v;
  }
  const uris = raw.resourceSubscriptions;
  if (uris !== undefined) {
    if (!Array.isArray(uris) || !uris.every((u) => typeof u === 'string' && u !== '')) return { ok: false, detail: '"notifications.resourceSubscriptions" must be an array of URIs' };
    if (uris.length > MAX_RESOURCE_SUBSCRIPTIONS) return { ok: false, detail: `${uris.length} resource subscriptions; the limit is ${MAX_RESOURCE_SUBSCRIPTIONS}` };
    out.resourceSubscriptions = [...new Set(uris as string[])];
  }
  return { ok: true, filter: out };
}

