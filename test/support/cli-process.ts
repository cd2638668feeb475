import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const CLI = fileURLToPath(new URL('../../dist/src/cli.js', import.meta.url));

export interface GatewayProcess {
  readonly child: ChildProcess;
  /** The MCP endpoint the process logged. */
  readonly url: string;
  /** Its exit code, once it has exited. */
  readonly exited: Promise<number | null>;
}

/**
 * `mcp-gateway standalone --config <file>` as a process of its own (build first: it runs
 * dist/src/cli.js), for what only a real process shows: signals, the exit path. Resolves once it
 * logs that it listens; rejects with its output if it exits first.
 */
export async function startGatewayProcess(configFile: string, env: Record<string, string> = {}, args: readonly string[] = []): Promise<GatewayProcess> {
  const child = spawn(process.execPath, [CLI, 'standalone', '--config', configFile, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /"url":"([^"]+)".*mcp gateway listening/.exec(out);
      if (m) resolve(m[1]!);
    });
    child.stderr!.on('data', (d) => (out += d));
    void exited.then((code) => reject(new Error(`exited early with ${code}: ${out}`)));
  });
  return { child, url, exited };
}
