import { spawn } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The built CLI (`npm run build`): tests run it as users do. */
export const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface CliResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Run a built script to its end with the Node running the tests; `env` replaces the environment when given. */
export function runNode(script: string, args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: opts.env ?? process.env, cwd: opts.cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Run `mcp-gateway <args>` to its end. */
export function runCli(args: readonly string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<CliResult> {
  return runNode(CLI, args, opts);
}

/** Write `text` as a configuration file in a fresh temporary directory (relative names in it resolve there). */
export async function configFile(text: string, name = 'gateway.yaml'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'gw-cli-'));
  const file = join(dir, name);
  await writeFile(file, text);
  return file;
}
