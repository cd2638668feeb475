/**
 * One State-of-the-World ADS stream (one Envoy), per the xDS protocol: each type URL is its own
 * sub-stream with its subscription, last version and nonce. Requests with a stale nonce are
 * ignored; a request answering the latest nonce is an ACK, or a NACK when it carries
 * `error_detail`. Responses go out on the first request for a type, when the subscription
 * changes, and when the content a stream subscribed to changes — never to repeat itself.
 */
import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import { TYPE_URL } from './protos.js';
import type { AnyResource, EncodedSnapshot } from './resources.js';

/** The fields of `envoy.service.discovery.v3.DiscoveryRequest` the server reads. */
export interface DiscoveryRequest {
  version_info?: string;
  node?: { id?: string; cluster?: string };
  resource_names?: string[];
  type_url?: string;
  response_nonce?: string;
  error_detail?: { code?: number; message?: string };
}

export interface DiscoveryResponse {
  version_info: string;
  resources: AnyResource[];
  type_url: string;
  nonce: string;
}

interface Subscription {
  /** Names asked for, sorted; `undefined` for wildcard (CDS: every cluster). */
  names: readonly string[] | undefined;
  version: string;
  nonce: string;
}

/** What a stream reports to its server. */
export interface StreamEvents {
  nack(typeUrl: string, version: string, detail: string): void;
}

/** The protocol state of one stream; the server owns the transport and the snapshot. */
export class AdsStream {
  private readonly subs = new Map<string, Subscription>();
  /** Requests that arrived before the server had its first snapshot. */
  private early: DiscoveryRequest[] = [];
  private nonces = 0;
  private node = '';

  constructor(
    private readonly send: (res: DiscoveryResponse) => void,
    private readonly logger: Logger,
    private readonly events: StreamEvents,
  ) {}

  /**
   * Handle one request from Envoy, given what the server holds right now. Before the first
   * snapshot there is no answer: an empty one would make a reconnecting Envoy drop every cluster.
   */
  onRequest(req: DiscoveryRequest, current: EncodedSnapshot | undefined): void {
    if (!this.node && req.node?.id) {
      this.node = req.node.id;
      this.logger.info({ node: this.node, cluster: req.node.cluster }, 'xds stream opened');
    }
    if (!current) {
      this.early.push(req);
      return;
    }
    const typeUrl = req.type_url ?? '';
    if (typeUrl === '') return;
    const sub = this.subs.get(typeUrl);
    const nonce = req.response_nonce ?? '';
    if (sub && nonce !== '' && nonce !== sub.nonce) return;
    const names = typeUrl === TYPE_URL.cluster ? undefined : [...new Set(req.resource_names ?? [])].sort();
    const renamed = sub !== undefined && JSON.stringify(sub.names) !== JSON.stringify(names);
    if (sub && nonce !== '') {
      if (req.error_detail) {
        const detail = req.error_detail.message ?? `code ${req.error_detail.code ?? '?'}`;
        this.logger.warn({ node: this.node, typeUrl, rejected: sub.version, applied: req.version_info, detail }, 'xds: Envoy rejected an update; keeping the last version');
        this.events.nack(typeUrl, sub.version, detail);
      } else {
        this.logger.debug({ node: this.node, typeUrl, version: sub.version }, 'xds ack');
      }
      if (!renamed) return;
    }
    this.respond(typeUrl, names, current);
  }

  /** After a snapshot change: send each subscription whose content changed. */
  push(current: EncodedSnapshot): void {
    const early = this.early;
    this.early = [];
    for (const req of early) this.onRequest(req, current);
    // Clusters first, then their endpoints (make before break).
    const types = [...this.subs.keys()].sort((a, b) => Number(b === TYPE_URL.cluster) - Number(a === TYPE_URL.cluster));
    for (const typeUrl of types) {
      const sub = this.subs.get(typeUrl)!;
      const resources = select(current, typeUrl, sub.names);
      if (versionOf(typeUrl, resources) !== sub.version) this.respond(typeUrl, sub.names, current);
    }
  }

  private respond(typeUrl: string, names: readonly string[] | undefined, current: EncodedSnapshot): void {
    // Requested names we do not know get nothing: SotW has no "does not exist" answer, and an
    // empty assignment would claim the cluster exists without endpoints. Should one appear,
    // push() sends it, since the subscription is remembered.
    const resources = select(current, typeUrl, names);
    const version = versionOf(typeUrl, resources);
    const nonce = String(++this.nonces);
    this.subs.set(typeUrl, { names, version, nonce });
    this.send({ version_info: version, resources, type_url: typeUrl, nonce });
  }
}

function select(current: EncodedSnapshot, typeUrl: string, names: readonly string[] | undefined): AnyResource[] {
  const all = current.get(typeUrl);
  if (!all) return [];
  if (!names) return [...all.values()];
  return names.flatMap((n) => all.get(n) ?? []);
}

/** A content hash: the version changes exactly when the bytes sent would. */
function versionOf(typeUrl: string, resources: readonly AnyResource[]): string {
  const hash = createHash('sha256').update(typeUrl);
  for (const r of resources) hash.update(`\0${r.value.length}\0`).update(r.value);
  return hash.digest('hex').slice(0, 16);
}
