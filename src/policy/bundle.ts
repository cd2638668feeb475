import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tarGz, type TarEntry } from './tar.js';

/** One archive as served: its bytes, revision and entity tag. */
interface Archive {
  readonly body: Buffer;
  readonly revision: string;
  readonly etag: string;
}

/** Where the bundle is served, and the bearer token OPA must present (none: anyone who reaches the listener). */
export interface BundleEndpointConfig {
  readonly path: string;
  readonly token?: string | undefined;
}

/**
 * The gateway's Rego as an OPA bundle (a tar.gz with a `.manifest`), served to OPA's bundle
 * plugin. The revision is a digest of the files and roots, so it changes exactly when the Rego
 * does, and replicas that hold the same policies serve the same revision: OPA polling a load
 * balanced address never flaps between them. The entity tag is the revision, so a poll that
 * finds nothing new is a 304 without a body.
 */
export class PolicyBundle {
  private archive: Archive | undefined;
  private readonly token: Buffer | undefined;

  constructor(readonly endpoint: BundleEndpointConfig) {
    this.token = endpoint.token === undefined ? undefined : Buffer.from(`Bearer ${endpoint.token}`);
  }

  /** The revision being served; undefined before the first {@link update}. */
  get revision(): string | undefined {
    return this.archive?.revision;
  }

  /** Serve these modules from now on, under these roots; answers the revision. */
  update(files: readonly TarEntry[], roots: readonly string[]): string {
    const sorted = [...files].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    const digest = createHash('sha256');
    for (const r of roots) digest.update(`root\0${r}\0`);
    for (const f of sorted) digest.update(`file\0${f.name}\0${f.content}\0`);
    const revision = digest.digest('hex').slice(0, 32);
    if (revision === this.archive?.revision) return revision;
    const manifest = { revision, roots: [...roots], metadata: { source: 'mcp-gateway' } };
    const body = tarGz([{ name: '.manifest', content: JSON.stringify(manifest) }, ...sorted]);
    this.archive = { body, revision, etag: `"${revision}"` };
    return revision;
  }

  /** Answer a `GET` of the bundle: 401 without the token, 304 when OPA holds this revision, else the archive. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    if (this.token && !sameSecret(req.headers.authorization, this.token)) {
      res.writeHead(401, { 'www-authenticate': 'Bearer realm="mcp-gateway-bundle"', 'content-type': 'application/json' }).end('{"error":"the bundle needs the bearer token of policy.bundle.token"}');
      return;
    }
    const a = this.archive;
    if (!a) {
      res.writeHead(503, { 'retry-after': '1', 'content-type': 'application/json' }).end('{"error":"the bundle is not built yet"}');
      return;
    }
    const headers = { etag: a.etag, 'cache-control': 'no-cache' };
    if (matches(req.headers['if-none-match'], a.etag)) {
      res.writeHead(304, headers).end();
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': 'application/gzip', 'content-length': a.body.length }).end(a.body);
  }
}

/** The smallest set of roots covering every path: one that lies under another is dropped. */
export function bundleRoots(paths: Iterable<string>): string[] {
  const sorted = [...new Set(paths)].sort();
  return sorted.filter((p) => !sorted.some((q) => q !== p && p.startsWith(`${q}/`)));
}

function sameSecret(given: string | undefined, expected: Buffer): boolean {
  const g = Buffer.from(given ?? '');
  return g.length === expected.length && timingSafeEqual(g, expected);
}

/** RFC 9110 If-None-Match: `*`, or a list of entity tags compared weakly. */
function matches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  if (header.trim() === '*') return true;
  return header.split(',').some((t) => t.trim().replace(/^W\//, '') === etag);
}
