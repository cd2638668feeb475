import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { RestBackendConfig, RestToolConfig } from '../../config/schema.js';
import { parseDocument, readDocument, type DocumentAccess } from './document.js';
import { operationsToTools, type Conversion } from './operations.js';

/** What a backend's document gave, for logs, `/healthz` and metrics. */
export interface ImportSummary {
  readonly tools: number;
  readonly skipped: number;
  readonly excluded: number;
}

/**
 * Reads each REST backend's OpenAPI document and turns it into tools. A document whose text and
 * selection are unchanged since the last read is not parsed again (GitHub's takes seconds). Each
 * new conversion logs every skipped operation once, with its reason. A document that cannot be
 * read or parsed throws (an {@link OpenApiError}); the catalog then keeps the last good tools.
 */
export class OpenApiImporter {
  private readonly last = new Map<string, { key: string; conversion: Conversion }>();
  private readonly summaries = new Map<string, ImportSummary>();

  constructor(
    private readonly access: DocumentAccess,
    private readonly logger: Logger,
  ) {}

  /** The tools of a backend's document (which the backend must have: `backend.openapi`). */
  async import(backend: RestBackendConfig, signal: AbortSignal): Promise<readonly RestToolConfig[]> {
    const source = backend.openapi!;
    const doc = await readDocument(source, this.access, signal);
    const key = createHash('sha256').update(JSON.stringify(source)).update('\0').update(doc.text).digest('hex');
    const cached = this.last.get(backend.name);
    if (cached?.key === key) return cached.conversion.tools;
    const conversion = operationsToTools(await parseDocument(doc), source);
    this.last.set(backend.name, { key, conversion });
    const summary = { tools: conversion.tools.length, skipped: conversion.skipped.length, excluded: conversion.excluded };
    this.summaries.set(backend.name, summary);
    for (const s of conversion.skipped) this.logger.warn({ backend: backend.name, operation: s.operation, reason: s.reason }, 'OpenAPI operation skipped');
    this.logger.info({ backend: backend.name, document: doc.where, ...summary }, 'OpenAPI document imported');
    return conversion.tools;
  }

  /** The last successful import of each backend still importing. */
  summary(): ReadonlyMap<string, ImportSummary> {
    return this.summaries;
  }

  /** Release the Consul connections (when KV documents were read). */
  async close(): Promise<void> {
    this.access.consul?.client.destroy();
  }

  /** Forget a backend that left the catalog (or stopped naming a document). */
  forget(name: string): void {
    this.last.delete(name);
    this.summaries.delete(name);
  }
}
