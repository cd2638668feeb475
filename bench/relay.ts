/**
 * `npm run bench:relay`: what relaying a backend's `sampling/createMessage` through the gateway
 * adds to a sampling round trip (tools/call → the backend asks the client → the client answers →
 * the result), against the same backend called directly, in the same run. The backend and the
 * gateway run in child processes of their own; this process is the client, one round trip at a
 * time (closed loop, c=1), over keep-alive connections. Knobs: BENCH_RELAY_ROUNDS (300),
 * BENCH_RELAY_WARMUP (30).
 */
import { startChild, type Child } from './children.js';
import { env } from './plan.js';
import { averaged, measure, side, type SamplingCall } from './sampling-round.js';

const rounds = env('BENCH_RELAY_ROUNDS', 300);
const warmup = env('BENCH_RELAY_WARMUP', 30);
const SAMPLE: SamplingCall = { tool: 'sample', arguments: {}, answered: (text, n) => text === `r${n}` };

async function main(): Promise<void> {
  const children: Child[] = [];
  try {
    const backend = await startChild(['sampler']);
    children.push(backend);
    const gateway = await startChild(['relay-gateway', backend.urls.sampler!]);
    children.push(gateway);
    const direct = await side('direct', backend.urls.sampler!);
    const through = await side('gateway', gateway.urls.gateway!);
    // Alternate halves so drift (JIT, CPU frequency) hits both sides alike.
    const half = { rounds, warmup };
    const d1 = await measure(direct, SAMPLE, half);
    const g1 = await measure(through, SAMPLE, half);
    const d2 = await measure(direct, SAMPLE, { ...half, first: rounds + warmup + 1 });
    const g2 = await measure(through, SAMPLE, { ...half, first: rounds + warmup + 1 });
    const d = averaged(d1, d2);
    const g = averaged(g1, g2);
    const f = (x: number): string => x.toFixed(2);
    console.log(`bench:relay — sampling round trip (tools/call + sampling/createMessage + answer), ${2 * rounds} rounds per side, c=1`);
    console.log(`  direct   p50 ${f(d.p50)} ms  p99 ${f(d.p99)} ms  mean ${f(d.mean)} ms`);
    console.log(`  gateway  p50 ${f(g.p50)} ms  p99 ${f(g.p99)} ms  mean ${f(g.mean)} ms`);
    console.log(`  gateway / direct: p50 ×${(g.p50 / d.p50).toFixed(2)} (+${f(g.p50 - d.p50)} ms), p99 ×${(g.p99 / d.p99).toFixed(2)}, mean ×${(g.mean / d.mean).toFixed(2)}`);
    await Promise.all([direct.pool.close(), through.pool.close()]);
  } finally {
    for (const c of children.reverse()) await c.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
