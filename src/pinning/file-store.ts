import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { isApproval, MemoryApprovalStore, type ApprovalStore } from './store.js';

/**
 * Approvals of a single instance in a JSON file, so a restart does not trust whatever the
 * backends serve at that moment (the memory store would). Written whole to a temporary file and
 * renamed over the old one, so a crash leaves either version, never half of one. Only this
 * process writes it: several instances need the Hazelcast or Consul store.
 */
export class FileApprovalStore extends MemoryApprovalStore {
  override readonly kind: ApprovalStore['kind'] = 'file';
  private writing: Promise<void> = Promise.resolve();

  private constructor(private readonly file: string) {
    super();
  }

  /** Read the file (absent: no approvals yet); rejects when it exists but is not an approvals file. */
  static async open(file: string): Promise<FileApprovalStore> {
    const store = new FileApprovalStore(file);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return store;
      throw new Error(`pinning.file: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (err) {
      throw new Error(`pinning.file: ${file} is not JSON`, { cause: err });
    }
    const approvals = (parsed as { approvals?: unknown } | null)?.approvals;
    if (typeof approvals !== 'object' || approvals === null) throw new Error(`pinning.file: ${file} has no "approvals" object`);
    for (const [key, a] of Object.entries(approvals)) if (isApproval(a)) store.approvals.set(key, a);
    return store;
  }

  protected override saved(): Promise<void> {
    // One write at a time, each of the newest map: a burst of first-use approvals ends in one consistent file.
    this.writing = this.writing.catch(() => undefined).then(() => this.write());
    return this.writing;
  }

  private async write(): Promise<void> {
    await mkdir(dirname(this.file), { recursive: true });
    const tmp = `${this.file}.${process.pid}.tmp`;
    await writeFile(tmp, `${JSON.stringify({ approvals: Object.fromEntries(this.approvals) }, null, 2)}\n`, { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
