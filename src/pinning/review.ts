import type { DriftAction, PinningMode } from '../config/schema.js';

/** What is pinned: tools (native and REST) and native prompts. */
export type PinKind = 'tool' | 'prompt';

/** One catalog entry on its way into a snapshot, with what pinning needs to judge and rebuild it. */
export interface PinCandidate<T> {
  readonly kind: PinKind;
  readonly backend: string;
  /** The backend's own name for the entry (before the gateway's prefix). */
  readonly name: string;
  /** What is pinned: the definition as the backend (or the REST tool's source) gives it. */
  readonly subject: unknown;
  /** The backend's own pinning settings, when its configuration has some. */
  readonly overrides?: { readonly mode?: PinningMode | undefined; readonly onDrift?: DriftAction | undefined } | undefined;
  /** The catalog entry made from a subject: the one served now, or an approved one. */
  build(subject: unknown): T;
}

/** One pass of pinning over the entries of a snapshot being built; closed once the snapshot is. */
export interface PinReview {
  /** The entries clients may see: approved ones as served, drifted ones as approved (or left out), unapproved ones left out. */
  review<T>(candidates: readonly PinCandidate<T>[]): T[];
}

/** The key an approval is stored under: `tool/<backend>/<name>`. */
export function pinKey(kind: PinKind, backend: string, name: string): string {
  return `${kind}/${backend}/${name}`;
}

/** The entries as they are, for a snapshot built without pinning. */
export function unreviewed<T>(candidates: readonly PinCandidate<T>[]): T[] {
  return candidates.map((c) => c.build(c.subject));
}
