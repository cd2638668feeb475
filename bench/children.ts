/**
 * Forking and reaping the server processes. Children are stopped politely (IPC `stop`, so
 * `--cpu-prof` can flush) and killed if they linger; an `exit` hook kills whatever is left
 * if the bench itself dies.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ReadyMessage } from './servers.js';

const SERVERS = fileURLToPath(new URL('./servers.js', import.meta.url));
const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

export interface Child {
  readonly urls: Record<string, string>;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Fork `servers.js <args>` and wait for its ready message. `execArgv` lets a run add `--cpu-prof`. */
export async function startChild(args: string[], execArgv: readonly string[] = [], timeoutMs = 20_000): Promise<Child> {
  const child = fork(SERVERS, args, { execArgv: [...execArgv], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`bench child ${args[0]} not ready in ${timeoutMs} ms`)), timeoutMs);
    child.once('exit', (code) => reject(new Error(`bench child ${args[0]} exited with code ${code}`)));
    child.on('message', (m: ReadyMessage) => {
      if (m?.type !== 'ready') return;
      clearTimeout(timer);
      resolve(m.urls);
    });
  }).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  return { urls, pid: child.pid, stop: () => stopChild(child) };
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  child.send({ type: 'stop' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}
