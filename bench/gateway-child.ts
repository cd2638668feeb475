/**
 * The parent side of a bench child that hosts gateways differing in one setting (audit sink,
 * event store): fork it, wait for its URLs, and ask it for its CPU time, so the cost of the
 * setting shows as gateway CPU per call and not only as client-side latency.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { Pool } from 'undici';
import { runLoad } from './load.js';
import { openSession, type SessionHeaders } from './mcp-session.js';
import type { Summary } from './stats.js';
import type { Target } from './targets.js';

/** Fork `script args…` and wait for `{ type: 'ready', urls }`. */
export async function forkGateways(script: string, args: string[], what: string): Promise<{ child: ChildProcess; urls: Record<string, string> }> {
  const child = fork(script, args, { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  process.on('exit', () => child.kill('SIGKILL'));
  const urls = await new Promise<Record<string, string>>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} not ready in 30 s`)), 30_000);
    child.once('exit', (code) => reject(new Error(`${what} exited with code ${code}`)));
    child.on('message', (m: { type?: string; urls?: Record<string, string> }) => {
      if (m?.type !== 'ready' || !m.urls) return;
      clearTimeout(timer);
      resolve(m.urls);
    });
  });
  return { child, urls };
}

/** The child's CPU time in µs (user + system), with whatever else its `cpu` answer carries. */
export function childCpu(child: ChildProcess): Promise<{ us: number; extra: Record<string, number> }> {
  return new Promise((resolve) => {
    const on = (m: { type?: string; usage?: NodeJS.CpuUsage } & Record<string, unknown>): void => {
      if (m?.type !== 'cpu' || !m.usage) return;
      child.off('message', on);
      const { type: _t, usage, ...extra } = m;
      resolve({ us: usage.user + usage.system, extra: extra as Record<string, number> });
    };
    child.on('message', on);
    child.send({ type: 'cpu' });
  });
}

/** Ask the child to stop, and kill it if it lingers. */
export async function stopGateways(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.send({ type: 'stop' });
  await Promise.race([exited, new Promise((r) => setTimeout(r, 5_000))]);
  child.kill('SIGKILL');
}

/**
 * The child side: report the gateways' URLs, answer `cpu` with this process's CPU time (and
 * `extra()` figures), and stop them on `stop`, on SIGTERM or when the parent goes away.
 */
export function hostGateways(gateways: Record<string, { url: string; stop(): Promise<void> }>, extra: () => Promise<Record<string, number>> = async () => ({})): void {
  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    await Promise.allSettled(Object.values(gateways).map((g) => g.stop()));
    process.exit(0);
  };
  process.on('message', (m: { type?: string }) => {
    if (m?.type === 'stop') void stop();
    if (m?.type === 'cpu') void extra().then((figures) => process.send!({ type: 'cpu', usage: process.cpuUsage(), ...figures }));
  });
  process.on('disconnect', () => void stop());
  process.on('SIGTERM', () => void stop());
  process.send!({ type: 'ready', urls: Object.fromEntries(Object.entries(gateways).map(([k, g]) => [k, g.url])) });
}

/** One side's figures in one round. */
export interface SideSample {
  readonly summary: Summary;
  /** Gateway child CPU (user + system) per call, in microseconds. */
  readonly cpuUs: number;
  /** The child's extra figures (`hostGateways`' `extra`), per call. */
  readonly extra: Record<string, number>;
}

/** A pool and an open MCP session per gateway URL, and the target `make` builds on them (checked once). */
export async function sessionTargets(urls: Record<string, string>, connections: number, pools: Pool[], make: (pool: Pool, path: string, session: SessionHeaders) => Target): Promise<Record<string, Target>> {
  const targets: Record<string, Target> = {};
  for (const [side, url] of Object.entries(urls)) {
    const u = new URL(url);
    const pool = new Pool(u.origin, { connections, keepAliveTimeout: 60_000 });
    pools.push(pool);
    targets[side] = make(pool, u.pathname, await openSession(pool, u.pathname));
    await targets[side].verify();
  }
  return targets;
}

/**
 * `rounds` rounds at each concurrency; each round measures every side, the first side rotating
 * so that drift in machine load hits all alike. Samples are keyed `<side>@<concurrency>`.
 */
export async function measureRounds(child: ChildProcess, targets: Record<string, Target>, opts: { rounds: number; concurrencies: number[]; warmup: number; requests: number }): Promise<Record<string, SideSample[]>> {
  const sides = Object.keys(targets);
  const samples: Record<string, SideSample[]> = {};
  for (const concurrency of opts.concurrencies) {
    for (let r = 0; r < opts.rounds; r++) {
      for (const side of sides.map((_, i) => sides[(i + r) % sides.length]!)) {
        const before = await childCpu(child);
        const summary = await runLoad(targets[side]!, { concurrency, warmup: opts.warmup, requests: opts.requests, maxMs: 20_000 });
        const after = await childCpu(child);
        const calls = opts.warmup + summary.count;
        const extra = Object.fromEntries(Object.entries(after.extra).map(([k, v]) => [k, (v - (before.extra[k] ?? 0)) / calls]));
        (samples[`${side}@${concurrency}`] ??= []).push({ summary, cpuUs: (after.us - before.us) / calls, extra });
      }
      process.stdout.write('.');
    }
  }
  process.stdout.write('\n');
  return samples;
}
