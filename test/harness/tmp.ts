/** Per-process temp dirs, removed when the process that used them exits. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A fresh directory under the OS temp dir, e.g. `/tmp/mcp-gw-consul-AbC123`. */
export function makeTempDir(label: string): string {
  return mkdtempSync(join(tmpdir(), `mcp-gw-${label}-`));
}

/** Recursive, error-free removal (used as a process `cleanup`). */
export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
