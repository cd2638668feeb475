/** One approved version of a pinned definition, as every instance reads it from the store. */
export interface Approval {
  readonly digest: string;
  /**
   * The approved definition itself, as the backend (or the REST tool's source) gave it: instances
   * that never saw this version still serve it while the backend serves another.
   */
  readonly definition: unknown;
  /** ISO 8601. */
  readonly approvedAt: string;
  /** `first-use` (trust on first use), or the approving operator (`issuer#subject` of the admin token). */
  readonly approvedBy: string;
}

/**
 * Port: where approvals live so that every instance sees them (docs/tool-pinning.md#stores).
 * Keys are `tool/<backend>/<name>` or `prompt/<backend>/<name>` (the backend's own names).
 */
export interface ApprovalStore {
  /** Which store this is, for logs and `/healthz`. */
  readonly kind: 'memory' | 'file' | 'hazelcast' | 'consul';
  /** Every approval. Rejects when the store cannot be read. */
  list(): Promise<Map<string, Approval>>;
  /**
   * Record a first-use approval unless one exists; resolves with the approval that holds now
   * (the existing one when another instance was first), so racing instances agree.
   */
  putIfAbsent(key: string, approval: Approval): Promise<Approval>;
  /** Record an operator's approval, replacing any earlier one. */
  put(key: string, approval: Approval): Promise<void>;
  close(): Promise<void>;
}

/** Approvals in this process only: lost on restart, so a restart trusts whatever backends serve then. */
export class MemoryApprovalStore implements ApprovalStore {
  readonly kind: ApprovalStore['kind'] = 'memory';
  protected readonly approvals = new Map<string, Approval>();

  async list(): Promise<Map<string, Approval>> {
    return new Map(this.approvals);
  }

  async putIfAbsent(key: string, approval: Approval): Promise<Approval> {
    const existing = this.approvals.get(key);
    if (existing) return existing;
    await this.put(key, approval);
    return approval;
  }

  async put(key: string, approval: Approval): Promise<void> {
    this.approvals.set(key, approval);
    await this.saved();
  }

  /** Hook for stores that keep the map somewhere (the file store). */
  protected async saved(): Promise<void> {}

  async close(): Promise<void> {}
}

/** Whether a decoded value is an approval record (anything else in a store is ignored and reported). */
export function isApproval(v: unknown): v is Approval {
  const a = v as Partial<Approval> | null;
  return typeof a === 'object' && a !== null && typeof a.digest === 'string' && typeof a.approvedAt === 'string' && typeof a.approvedBy === 'string' && 'definition' in a;
}
