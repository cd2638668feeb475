/**
 * Spawns a real server process for a test and waits until it is usable.
 *
 * Why not plain `spawn`: a server that fails to start should fail the test with
 * its own log output, and no server may outlive the test process (a leaked
 * Consul or Java member would hold ports and memory across runs).
 */
import { spawn, type ChildProcess } from 'node:child_process';

const MAX_LINES = 200;

/** Keeps the last {@link MAX_LINES} lines of a child's combined stdout/stderr. */
class LineRing {
  private readonly lines: string[] = [];
  private partial: Record<'out' | 'err', string> = { out: '', err: '' };

  push(stream: 'out' | 'err', chunk: string): void {
    const parts = (this.partial[stream] + chunk).split(/\r?\n/);
    this.partial[stream] = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  private add(line: string): void {
    this.lines.push(line);
    if (this.lines.length > MAX_LINES) this.lines.splice(0, this.lines.length - MAX_LINES);
  }

  text(): string {
    const tails = [this.partial.out, this.partial.err].filter((p) => p !== '');
    return [...this.lines, ...tails].join('\n');
  }
}

/** What `ready` can look at while polling (e.g. a log line). */
export interface ReadyContext {
  /** The last ~200 lines the process printed. */
  output(): string;
}

export interface StartProcessOptions {
  cmd: string;
  args?: string[];
  /** Merged over `process.env`. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Shown in errors. */
  name: string;
  /** Polled until it resolves true; a throw (e.g. ECONNREFUSED) counts as "not yet". */
  ready: (ctx: ReadyContext) => Promise<boolean>;
  /** How long to wait for `ready`; default 60 s. */
  timeoutMs?: number;
  /** Delay between `ready` polls; default 200 ms. */
  pollMs?: number;
  /** Runs once after the process has exited (e.g. remove its temp dir). */
  cleanup?: () => void;
}

export interface ProcessHandle {
  readonly name: string;
  readonly pid: number;
  /** The last ~200 lines the process printed. */
  output(): string;
  /** Resolves with the exit code (or null when killed by a signal). */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after `graceMs` (default 5 s); resolves once exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL now (simulates a crash). */
  kill(): void;
}

/** Running children and their cleanup, for the exit hooks. */
const live = new Map<ChildProcess, (() => void) | undefined>();
let hooksInstalled = false;

function killAll(): void {
  for (const [child, cleanup] of live) {
    try {
      child.kill('SIGKILL');
      cleanup?.();
    } catch {
      // already gone / best effort
    }
  }
  live.clear();
}

/** Kills every tracked child when the test process exits or is interrupted. */
function installExitHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killAll();
      process.removeListener(signal, onSignal);
      // Re-raise so the default behaviour (or another handler) still applies.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    process.on(signal, onSignal);
  }
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Starts `cmd`, waits for `ready`, and returns a handle; rejects with the log tail on failure. */
export async function startProcess(opts: StartProcessOptions): Promise<ProcessHandle> {
  installExitHooks();
  const ring = new LineRing();
  const child = spawn(opts.cmd, opts.args ?? [], {
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  live.set(child, opts.cleanup);
  child.stdout?.setEncoding('utf8').on('data', (d: string) => ring.push('out', d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => ring.push('err', d));

  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const exited = new Promise<number | null>((resolve) => {
    let cleaned = false;
    const finish = (code: number | null): void => {
      live.delete(child);
      if (!cleaned) {
        cleaned = true;
        try {
          opts.cleanup?.();
        } catch {
          // best effort
        }
      }
      resolve(code);
    };
    child.once('error', (err) => {
      spawnError = err;
      exitInfo = `failed to spawn: ${err.message}`;
      // 'exit' does not follow a spawn failure.
      if (child.pid === undefined) finish(null);
    });
    child.once('exit', (code, signal) => {
      exitInfo = `exited with ${signal ?? `code ${code}`}`;
      finish(code);
    });
  });

  const fail = (why: string): Error =>
    new Error(
      `${opts.name} ${why}\ncommand: ${opts.cmd} ${(opts.args ?? []).join(' ')}\n` +
        `--- last output ---\n${ring.text()}`,
      spawnError ? { cause: spawnError } : undefined,
    );

  const handle: ProcessHandle = {
    name: opts.name,
    pid: child.pid ?? -1,
    output: () => ring.text(),
    exited,
    async stop(graceMs = 5_000) {
      if (exitInfo !== undefined) return void (await exited);
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill() {
      if (exitInfo === undefined) child.kill('SIGKILL');
    },
  };

  // A spawn failure (ENOENT, EACCES) is reported asynchronously; wait for it.
  await new Promise<void>((resolve) => {
    child.once('spawn', resolve);
    child.once('error', () => resolve());
  });

  const deadline = Date.now() + (opts.timeoutMs ?? 60_000);
  const ctx: ReadyContext = { output: () => ring.text() };
  for (;;) {
    if (exitInfo !== undefined) {
      // 'exit' can precede the last stdout/stderr chunks; give them a moment.
      await Promise.race([closed, sleep(500)]);
      throw fail(`${exitInfo} before becoming ready`);
    }
    let ok = false;
    try {
      ok = await opts.ready(ctx);
    } catch {
      ok = false;
    }
    if (ok) return handle;
    if (Date.now() > deadline) {
      handle.kill();
      await exited;
      throw fail(`not ready after ${opts.timeoutMs ?? 60_000} ms`);
    }
    await sleep(opts.pollMs ?? 200);
  }
}

/** `fetch` with a short per-request timeout, for readiness probes. */
export async function probe(url: string, timeoutMs = 1_000): Promise<Response> {
  return fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
}

/**
 * Run a command to its end and collect its combined output; killed after `timeoutMs`, when
 * `code` is null. For tools that do one job and exit (a config check, a test suite's CLI).
 */
export function runToEnd(command: string, args: readonly string[], opts: { timeoutMs: number; cwd?: string; env?: NodeJS.ProcessEnv }): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(opts.cwd ? { cwd: opts.cwd } : {}), ...(opts.env ? { env: opts.env } : {}) });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}
