/**
 * Compile Rego with the real OPA (`opa check`): the same compiler the policy engine runs, so a
 * module it accepts here is one OPA accepts at start. Modules are checked together, as OPA holds
 * them together: a rule two files define in conflicting ways (a set in one, a value in the other)
 * is caught too. Conflicts that only show when a rule is evaluated are not (OPA finds them per query).
 */
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/** `name` on PATH, as a shell would find it; undefined when it is not there. */
export function onPath(name: string, env: NodeJS.ProcessEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

interface OpaCheckError {
  message?: string;
  code?: string;
  location?: { file?: string; row?: number; col?: number };
}

/** One line per compile error, `file:row:col: code: message`; empty when every module compiles. */
export async function regoErrors(opa: string, files: readonly string[]): Promise<string[]> {
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    execFile(opa, ['check', '--format', 'json', ...files], { timeout: 60_000, maxBuffer: 4 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err && typeof err.code !== 'number') return reject(new Error(`cannot run ${opa}: ${err.message}`, { cause: err }));
      resolve({ code: err ? (err.code as number) : 0, stdout, stderr });
    });
  });
  if (code === 0) return [];
  // opa check writes its JSON report to stdout or stderr depending on the version.
  for (const text of [stdout, stderr]) {
    try {
      const report = JSON.parse(text) as { errors?: OpaCheckError[] };
      if (Array.isArray(report.errors)) {
        return report.errors.map((e) => {
          const at = e.location ? `${e.location.file ?? '?'}:${e.location.row ?? 0}:${e.location.col ?? 0}: ` : '';
          return `${at}${e.code ?? 'error'}: ${(e.message ?? '').replace(/\s+/g, ' ')}`;
        });
      }
    } catch {
      // not this stream
    }
  }
  return [`${opa} check exited with ${code}: ${(stderr || stdout).trim().split('\n')[0] ?? ''}`];
}
