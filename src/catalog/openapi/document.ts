import { readFile, stat } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { $RefParser } from '@apidevtools/json-schema-ref-parser';
import type { Dispatcher } from 'undici';
import { parse as parseYaml } from 'yaml';
import type { OpenApiSourceConfig } from '../../config/schema.js';
import type Consul from 'consul';
import { consulFailure } from '../consul/client.js';

/** Largest document read (GitHub's full REST description is about 12 MB). */
export const MAX_DOCUMENT_BYTES = 64 * 1024 * 1024;
/** How long one read of a document (URL or Consul KV) may take. */
export const FETCH_TIMEOUT_MS = 30_000;

/** A document that could not be read or used: a local error; its message is the health reason. */
export class OpenApiError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'OpenApiError';
  }
}

/** Where the loader reads documents from: URLs through the gateway's dispatcher, KV through Consul when configured. */
export interface DocumentAccess {
  readonly dispatcher: Dispatcher;
  /** The `consul` package's client (src/catalog/consul/client.ts), with the catalog's token and datacenter. */
  readonly consul?: { readonly client: Consul; readonly url: string };
}

/** The raw text of a document and where it came from (for messages, and as the base of relative file `$ref`s). */
export interface DocumentText {
  readonly text: string;
  readonly where: string;
  readonly file?: string;
}

/** Read the document's text from its file, URL or Consul KV key, refusing anything past {@link MAX_DOCUMENT_BYTES}. */
export async function readDocument(source: OpenApiSourceConfig, access: DocumentAccess, signal: AbortSignal): Promise<DocumentText> {
  if (source.file !== undefined) {
    const file = resolvePath(source.file);
    const where = `file ${file}`;
    try {
      if ((await stat(file)).size > MAX_DOCUMENT_BYTES) throw new OpenApiError(`${where} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      return { text: await readFile(file, { encoding: 'utf8', signal }), where, file };
    } catch (err) {
      if (err instanceof OpenApiError) throw err;
      throw new OpenApiError(`cannot read ${where}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (source.url !== undefined) return { text: await fetchText(source.url, access.dispatcher, signal), where: `URL ${source.url}` };
  const key = source.consulKey!;
  const where = `Consul KV key "${key}"`;
  if (!access.consul) throw new OpenApiError(`${where} cannot be read: catalog.consul is not configured`);
  let entry: { Value?: string | null } | undefined;
  try {
    // The package decodes the value; a missing key resolves to undefined. Reads are bounded by the client's default timeout (src/gateway.ts).
    entry = (await access.consul.client.kv.get({ key })) as { Value?: string | null } | undefined;
  } catch (err) {
    throw new OpenApiError(`cannot read ${where}: ${consulFailure(err, `KV ${key}`, access.consul.url).message}`, { cause: err });
  }
  if (signal.aborted) throw new OpenApiError(`reading ${where} was stopped`);
  if (!entry) throw new OpenApiError(`${where} does not exist`);
  return { text: entry.Value ?? '', where };
}

/**
 * GET a document. Redirects are never followed: `dispatcher.request` does not follow them (only a
 * dispatcher composed with undici's redirect interceptor would, and the gateway's has none), so a
 * 3xx is an error. A URL a Consul registration named was checked against the service's instances
 * and `catalog.consul.openapiUrls`; a redirect would take the gateway past that check.
 */
async function fetchText(url: string, dispatcher: Dispatcher, signal: AbortSignal): Promise<string> {
  const where = `URL ${url}`;
  const u = new URL(url);
  try {
    const res = await dispatcher.request({
      origin: u.origin,
      path: u.pathname + u.search,
      method: 'GET',
      headers: { accept: 'application/json, application/yaml;q=0.9, */*;q=0.5' },
      signal: AbortSignal.any([signal, AbortSignal.timeout(FETCH_TIMEOUT_MS)]),
    });
    if (res.statusCode !== 200) {
      await res.body.dump();
      const redirect = res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : '';
      throw new OpenApiError(`${where} answered HTTP ${res.statusCode}${redirect}`);
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_DOCUMENT_BYTES) {
        res.body.destroy();
        throw new OpenApiError(`${where} is larger than ${MAX_DOCUMENT_BYTES} bytes`);
      }
      chunks.push(chunk as Buffer);
    }
    return Buffer.concat(chunks).toString('utf8');
  } catch (err) {
    if (err instanceof OpenApiError) throw err;
    throw new OpenApiError(`cannot fetch ${where}: ${(err as Error).message}`, { cause: err });
  }
}

/**
 * Parse (JSON or YAML) and dereference a document. Only a file document may follow `$ref`s to
 * other local files; a URL or KV document is resolved within itself, so a document from the
 * network can never make the gateway read local files or call other hosts. Recursive schemas stay
 * cycles of shared objects (src/catalog/openapi/json-schema.ts expands them, bounded).
 */
export async function parseDocument(doc: DocumentText): Promise<Record<string, unknown>> {
  let parsed: unknown;
  try {
    parsed = /^\s*\{/.test(doc.text) ? JSON.parse(doc.text) : parseYaml(doc.text);
  } catch (err) {
    throw new OpenApiError(`${doc.where} is neither JSON nor YAML: ${detail(doc, err)}`, { cause: err });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new OpenApiError(`${doc.where} is not an OpenAPI document (not an object)`);
  const version = (parsed as { openapi?: unknown; swagger?: unknown }).openapi;
  if (typeof version !== 'string' || !/^3\.[01]\./.test(version)) {
    const swagger = (parsed as { swagger?: unknown }).swagger;
    const what = swagger !== undefined ? `Swagger ${versionText(swagger)}` : version !== undefined ? `OpenAPI ${versionText(version)}` : 'no "openapi" version';
    throw new OpenApiError(`${doc.where} has ${what}; only OpenAPI 3.0 and 3.1 documents are imported`);
  }
  try {
    const options = {
      resolve: doc.file ? { external: true, http: false } : { external: false },
      dereference: { circular: true as const },
    };
    return (await new $RefParser().dereference(doc.file ?? 'document.json', parsed as object, options)) as Record<string, unknown>;
  } catch (err) {
    throw new OpenApiError(`${doc.where} could not be dereferenced: ${doc.file ? (err as Error).message : 'a $ref does not resolve within the document'}`, { cause: err });
  }
}

/**
 * What went wrong parsing, for a message that reaches `/healthz` and logs. Parser messages quote
 * the text around the error; a URL or KV document may be one a Consul registration pointed at, so
 * only the operator's own file keeps them, the others get the position alone.
 */
function detail(doc: DocumentText, err: unknown): string {
  const message = (err as Error).message;
  if (doc.file) return message;
  const pos = (err as { linePos?: ReadonlyArray<{ line: number; col: number }> }).linePos?.[0];
  if (pos) return `a YAML syntax error at line ${pos.line}, column ${pos.col}`;
  const at = /position (\d+)/.exec(message);
  return at ? `a JSON syntax error at position ${at[1]}` : 'a syntax error';
}

/** A version field as messages show it: only when it looks like a version, never other document text. */
function versionText(v: unknown): string {
  return typeof v === 'string' && /^[0-9][0-9.]{0,15}$/.test(v) ? v : typeof v === 'number' ? String(v) : '(not a version number)';
}
