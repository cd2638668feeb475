/**
 * `npm run bench:xinstance`: what it costs when a session-era client's answer to a stateless
 * (2026-07-28) backend's input request lands on another gateway instance than the one running
 * the call. Two gateways share sessions in a real Hazelcast member; a session opened on A calls
 * the backend's `summarize` through A, which relays the backend's `input_required` as a real
 * `sampling/createMessage`; the client POSTs its answer to A (same instance: the baseline) or to
 * B (cross instance: B hands it through the store to A, whose call loop retries the backend).
 * One round trip at a time (c=1), halves alternated; the ratio cross / same is the added cost.
 * Then the handoff alone: from one store client's `handOff` to another client's listener hearing
 * it (what the cross-instance path adds to taking the relay), beside a `takeRelay` in the same run.
 * Knobs: BENCH_XINSTANCE_ROUNDS (200 per half), BENCH_XINSTANCE_WARMUP (30).
 */
import type { ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { hazelcastJar } from '../test/harness/components.js';
import { startHazelcast, type HazelcastHandle } from '../test/harness/hazelcast.js';
import pino from 'pino';
import { HazelcastSessionStore } from '../src/session/hazelcast-store.js';
import { forkGateways, stopGateways } from './gateway-child.js';
import { installed } from './installed.js';
import { env } from './plan.js';
import { averaged, measure, side, type SamplingCall } from './sampling-round.js';

const rounds = env('BENCH_XINSTANCE_ROUNDS', 200);
const warmup = env('BENCH_XINSTANCE_WARMUP', 30);
const GATEWAYS = fileURLToPath(new URL('./xinstance-gateways.js', import.meta.url));
const SUMMARIZE: SamplingCall = { tool: 'summarize', arguments: { topic: 'bench' }, answered: (text, n) => text === `modern got: r${n} (bench)` };

async function main(): Promise<void> {
  if (!installed(hazelcastJar)) {
    console.log('xinstance bench: the Hazelcast jar is not installed (bash scripts/install-components.sh hazelcast); nothing to measure');
    return;
  }
  let member: HazelcastHandle | undefined;
  let gateways: ChildProcess | undefined;
  try {
    const cluster = `bench-xinstance-${randomUUID()}`;
    member = await startHazelcast({ clusterName: cluster });
    const started = await forkGateways(GATEWAYS, [cluster, member.address], 'xinstance gateways');
    gateways = started.child;
    const a = await side('A', started.urls.a!);
    // The same session, reached through B: the cluster shares it.
    const b = await side('B', started.urls.b!, a.session);
    let n = 1;
    const half = (answerVia: typeof a) => {
      const opts = { rounds, warmup, first: n, answerVia };
      n += rounds + warmup;
      return measure(a, SUMMARIZE, opts);
    };
    const s1 = await half(a);
    const x1 = await half(b);
    const s2 = await half(a);
    const x2 = await half(b);
    const same = averaged(s1, s2);
    const cross = averaged(x1, x2);
    const f = (x: number): string => x.toFixed(2);
    console.log(`bench:xinstance — session client → stateless backend, one input request per call (tools/call + sampling/createMessage + answer + retry), ${2 * rounds} rounds per side, c=1, sessions in Hazelcast`);
    console.log(`  answer to the same instance    p50 ${f(same.p50)} ms  p99 ${f(same.p99)} ms  mean ${f(same.mean)} ms`);
    console.log(`  answer to the other instance   p50 ${f(cross.p50)} ms  p99 ${f(cross.p99)} ms  mean ${f(cross.mean)} ms`);
    console.log(`  cross / same: p50 ×${(cross.p50 / same.p50).toFixed(2)} (+${f(cross.p50 - same.p50)} ms), p99 ×${(cross.p99 / same.p99).toFixed(2)} (+${f(cross.p99 - same.p99)} ms), mean ×${(cross.mean / same.mean).toFixed(2)}`);
    await Promise.all([a.pool.close(), b.pool.close()]);
    await handoffAlone(cluster, member.address);
  } finally {
    await stopGateways(gateways);
    await member?.stop();
  }
}

/** Sorted milliseconds → p50, p99, mean. */
function latency(ms: number[]): { p50: number; p99: number; mean: number } {
  ms.sort((x, y) => x - y);
  const at = (p: number): number => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
  return { p50: at(50), p99: at(99), mean: ms.reduce((x, y) => x + y, 0) / ms.length };
}

/** A handoff between two store clients of one cluster, and a relay taken, timed one at a time. */
async function handoffAlone(clusterName: string, member: string): Promise<void> {
  const open = () => HazelcastSessionStore.open({ clusterName, members: [member], mapName: 'bench-handoffs', ttlMs: 60_000, invocationTimeoutMs: 5_000, logger: pino({ level: 'silent' }) });
  const [from, to] = [await open(), await open()];
  try {
    const heard = new Map<string, () => void>();
    to.onHandoff((_id, key) => heard.get(key)?.());
    const id = `bench-${randomUUID()}`;
    const now = Date.now();
    await from.create({ id, principal: { issuer: null, subject: 'bench' }, protocolVersion: '2025-11-25', clientCapabilities: {}, backendSessions: {}, createdAt: now, lastSeenAt: now });
    const pending = { backend: 'b', backendId: 1, method: 'sampling/createMessage', via: { instance: 'http://b', sessionId: null, protocolVersion: '2026-07-28' }, tool: null, askedAt: now, expiresAt: now + 60_000 };
    const handoffs: number[] = [];
    const takes: number[] = [];
    for (let i = 0; i < warmup + 2 * rounds; i++) {
      const key = `k${i}`;
      const arrived = new Promise<void>((r) => heard.set(key, r));
      const started = performance.now();
      await from.handOff(id, key, { i }, 10_000);
      await arrived;
      const handoff = performance.now() - started;
      heard.delete(key);
      await to.takeHandoff(id, key);
      await from.addRelay(id, key, pending);
      const t0 = performance.now();
      await to.takeRelay(id, key);
      const take = performance.now() - t0;
      if (i >= warmup) {
        handoffs.push(handoff);
        takes.push(take);
      }
    }
    const h = latency(handoffs);
    const t = latency(takes);
    const f = (x: number): string => x.toFixed(2);
    console.log(`  handoff alone (write on one client → heard on another), ${handoffs.length} one at a time: p50 ${f(h.p50)} ms  p99 ${f(h.p99)} ms  mean ${f(h.mean)} ms`);
    console.log(`  for scale, takeRelay (which both paths do first):                              p50 ${f(t.p50)} ms  p99 ${f(t.p99)} ms  mean ${f(t.mean)} ms`);
  } finally {
    await Promise.all([from.close(), to.close()]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
