import { formatIssues } from '../../config/load.js';
import { backendSchema, restToolsSchema, type ConsulServiceSettings, type ConsulSourceConfig } from '../../config/schema.js';
import type { BackendDescriptor } from '../model.js';
import { bracketed, hostPort, unbracket } from '../../net.js';
import { ambiguousPath, isUnderPrefix } from '../../url-prefix.js';

/** Service meta keys of the registration contract (docs/consul.md). */
export const META = {
  enabled: 'mcp-enabled',
  kind: 'mcp-kind',
  path: 'mcp-path',
  prefix: 'mcp-prefix',
  scheme: 'mcp-scheme',
  /** An OpenAPI document describing a REST service's tools: a URL on the service's own instances or under `openapiUrls`, or a KV key under `openapiPrefix` (docs/openapi.md). */
  openapi: 'mcp-openapi',
  era: 'mcp-era',
  /** The most calls open at once the service takes (`backends[].maxConcurrentCalls`): its team knows its capacity. */
  maxConcurrent: 'mcp-max-concurrent',
} as const;

/** The parts of a `/v1/health/service/<name>` entry the mapping reads. */
export interface HealthEntry {
  readonly Node: { readonly Address: string };
  readonly Service: { readonly ID: string; readonly Address: string; readonly Port: number; readonly Meta: Record<string, string> | null };
}

/** The parts of a `/v1/kv/<prefix>?recurse` entry the mapping reads; the `consul` package has decoded `Value` from base64. */
export interface KvEntry {
  readonly Key: string;
  readonly Value: string | null;
}

/** A service's tool definitions as stored in KV: the key (for messages) and the decoded text. */
export interface KvTools {
  readonly key: string;
  readonly text: string;
}

/** `mcp/tools/<service>` entries by service name (none for an empty folder); deeper keys are not part of the contract and are ignored. */
export function kvToolsByService(entries: readonly KvEntry[] | undefined, prefix: string): Map<string, KvTools> {
  const out = new Map<string, KvTools>();
  for (const e of entries ?? []) {
    const service = e.Key.slice(prefix.length);
    if (!e.Key.startsWith(prefix) || service === '' || service.includes('/')) continue;
    out.set(service, { key: e.Key, text: e.Value ?? '' });
  }
  return out;
}

/** What one service became: a backend, a reason it was left out, or both (a backend with a warning). */
export interface MappedService {
  readonly backend?: BackendDescriptor;
  readonly problem?: string;
}

/** The KV folders and document URL prefixes of the registration contract (`catalog.consul`). */
export type ConsulPrefixes = Pick<ConsulSourceConfig, 'kvPrefix' | 'openapiPrefix' | 'openapiUrls'>;

/**
 * Turn one Consul service (its passing, MCP-enabled instances) and its KV tool definitions into
 * a backend. A service without healthy instances maps to nothing: its tools leave the catalog.
 * Anything unusable is reported with the service and key named, and only this service is left out.
 * `settings` are the operator's for this service name (`catalog.consul.services`): credentials and
 * pinning come only from there, never from the service's own meta.
 */
export function mapService(name: string, entries: readonly HealthEntry[], kv: KvTools | undefined, prefixes: ConsulPrefixes, settings?: ConsulServiceSettings): MappedService {
  const kvPrefix = prefixes.kvPrefix;
  const instances = entries.filter((e) => e.Service.Meta?.[META.enabled] === 'true').sort((a, b) => (a.Service.ID < b.Service.ID ? -1 : 1));
  if (instances.length === 0) return {};
  const meta = instances[0]!.Service.Meta ?? {};
  const kind = meta[META.kind];
  const where = `consul service "${name}"`;
  if (kind !== 'rest' && kind !== 'mcp') return { problem: `${where} is left out: service meta ${META.kind} must be "rest" or "mcp", got ${kind === undefined ? 'nothing' : `"${kind}"`}` };
  const urls = [...new Set(instances.map((e) => instanceUrl(e, kind)))];
  const raw: Record<string, unknown> = { name, kind, urls };
  if (meta[META.prefix] !== undefined) raw.prefix = meta[META.prefix];
  if (kind === 'mcp' && meta[META.era] !== undefined) raw.era = meta[META.era];
  const maxConcurrent = meta[META.maxConcurrent];
  if (maxConcurrent !== undefined) {
    // Meta values are strings: only plain digits, so "8.5", "1e3" or " 8" are not read as numbers.
    if (!/^[1-9][0-9]{0,8}$/.test(maxConcurrent)) return { problem: `${where} is left out: service meta ${META.maxConcurrent} must be a whole number of calls, at least 1, got "${maxConcurrent}"` };
    raw.maxConcurrentCalls = Number(maxConcurrent);
  }
  let note: string | undefined;
  const document = meta[META.openapi];
  if (kind === 'rest') {
    if (document !== undefined) {
      const source = documentSource(document, instances, prefixes);
      if (typeof source === 'string') return { problem: `${where} is left out: service meta ${META.openapi} ${source}` };
      raw.openapi = source;
    }
    if (!kv && document === undefined) return { problem: `${where} (${META.kind}=rest) is left out: no tool definitions at KV key "${kvPrefix}${name}" and no ${META.openapi} document` };
    const tools = kv ? parseTools(kv) : [];
    if (typeof tools === 'string') return { problem: `${where} is left out: ${tools}` };
    if (tools.length > 0) raw.tools = tools;
  } else if (kv || document !== undefined) {
    const what = kv ? `tool definitions at KV key "${kv.key}" are` : `the ${META.openapi} document is`;
    note = `${where}: ${what} ignored; an ${META.kind}=mcp service lists its own tools`;
  }
  const parsed = backendSchema.safeParse(raw);
  if (!parsed.success) return { problem: `${where} is left out: ${oneLine(formatIssues(parsed.error.issues))}` };
  // Applied after validation: they were validated with the configuration, and hold secrets (or secret references) no message may show.
  const backend = { ...parsed.data, ...(settings?.credentials ? { credentials: settings.credentials } : {}), ...(settings?.pinning ? { pinning: settings.pinning } : {}) };
  return note ? { backend, problem: note } : { backend };
}

/**
 * Where a service's own meta may point the gateway for its document. Whoever can register a
 * service writes this, and the gateway reads it with its own network reach and Consul token: a
 * URL may only name one of the service's registered instances (host and port, any path), a KV
 * key only a key under `openapiPrefix`; beyond that, only the URL prefixes the operator allowed
 * (`openapiUrls`). Anything else would let a registration read cloud metadata endpoints or other
 * teams' KV values (the operator's YAML `openapi` has no such limit).
 */
function documentSource(document: string, instances: readonly HealthEntry[], prefixes: ConsulPrefixes): { url: string } | { consulKey: string } | string {
  const { openapiPrefix, openapiUrls } = prefixes;
  if (/^https?:\/\//i.test(document)) {
    let url: URL;
    try {
      url = new URL(document);
    } catch {
      return `is not a valid URL`;
    }
    const own = new Set(instances.map((e) => authority(e.Service.Address || e.Node.Address, String(e.Service.Port))));
    const port = url.port || (url.protocol === 'https:' ? '443' : '80');
    if (own.has(authority(url.hostname, port))) return { url: document };
    const ownList = [...own].sort().join(', ');
    if (openapiUrls.length === 0) return `must be a URL on one of the service's own instances (${ownList}), got host ${url.host}`;
    // The URL as parsed, which is what is fetched: the allowed prefixes were normalised the same way.
    if (openapiUrls.some((p) => isUnderPrefix(url, new URL(p)))) return { url: url.href };
    // Only where it points: a user name, password or query in it is not for /healthz; the reason says what hid it.
    const hidden = url.username !== '' || url.password !== '' ? 'has a user name or password' : ambiguousPath(url);
    return `must be a URL on one of the service's own instances (${ownList}) or under catalog.consul.openapiUrls, got ${url.origin}${url.pathname}${hidden ? ` (it ${hidden})` : ''}`;
  }
  const rest = document.slice(openapiPrefix.length);
  // Consul's HTTP API would clean "..": only plain segments may follow the prefix.
  if (!document.startsWith(openapiPrefix) || !/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(rest) || rest.split('/').some((s) => s === '.' || s === '..')) {
    const urls = openapiUrls.length === 0 ? '' : ' or under catalog.consul.openapiUrls';
    return `must be an http(s) URL on the service's own instances${urls} or a KV key under "${openapiPrefix}" (catalog.consul.openapiPrefix), got "${document}"`;
  }
  return { consulKey: document };
}

/** `host:port` as a URL normalises it (lower case, IPv6 bracketed), for comparing a document URL with instance addresses. */
function authority(host: string, port: string): string {
  try {
    return `${new URL(`http://${bracketed(unbracket(host))}`).hostname}:${port}`;
  } catch {
    return `${host.toLowerCase()}:${port}`;
  }
}

/** The JSON array at a KV key, validated as REST tool definitions; a message naming the key otherwise. */
function parseTools(kv: KvTools): unknown[] | string {
  let json: unknown;
  try {
    json = JSON.parse(kv.text);
  } catch (err) {
    return `KV key "${kv.key}" is not valid JSON (${(err as Error).message})`;
  }
  const parsed = restToolsSchema.safeParse(json);
  if (!parsed.success) return `tool definitions at KV key "${kv.key}" are invalid: ${oneLine(formatIssues(parsed.error.issues))}`;
  return json as unknown[];
}

/** `<scheme>://<service address, or the node's>:<port><mcp-path>`; the MCP default path is `/mcp`. */
function instanceUrl(e: HealthEntry, kind: 'rest' | 'mcp'): string {
  const meta = e.Service.Meta ?? {};
  const host = e.Service.Address || e.Node.Address;
  const scheme = meta[META.scheme] === 'https' ? 'https' : 'http';
  let path = meta[META.path] ?? (kind === 'mcp' ? '/mcp' : '');
  if (path !== '' && !path.startsWith('/')) path = `/${path}`;
  return `${scheme}://${hostPort(host, e.Service.Port)}${path}`;
}

function oneLine(issues: string): string {
  return issues
    .split('\n')
    .map((l) => l.trim())
    .join('; ');
}
