/**
 * `npm run bench:relay`: what relaying a backend's `sampling/createMessage` through the gateway
 * adds to a sampling round trip (tools/call → the backend asks the client → the client answers →
 * the result), against the same backend called directly, in the same run. The backend and the
 * gateway run in child processes of their own; this process is the client, one round trip at a
 * time (closed loop, c=1), over keep-alive connections. Knobs: BENCH_RELAY_ROUNDS (300),
 * BENCH_RELAY_WARMUP (30).
 */
import { Pool } from 'undici';
import { startChild, type Child } from './children.js';
import { openSession, type SessionHeaders } from './mcp-session.js';
import { env } from './plan.js';
import { decodeSse } from '../src/mcp/sse.js';

const rounds = env('BENCH_RELAY_ROUNDS', 300);
const warmup = env('BENCH_RELAY_WARMUP', 30);

interface Side {
  readonly label: string;
  readonly pool: Pool;
  readonly path: string;
  readonly session: SessionHeaders;
}

async function side(label: string, url: string): Promise<Side> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 4 });
  // Sampling needs the client to declare it: the session opens with the capability.
  const session = await openSession(pool, u.pathname, { sampling: {} });
  return { label, pool, path: u.pathname, session };
}

/** One sampling round trip; resolves with its duration in ms. */
async function roundTrip(s: Side, n: number): Promise<number> {
  const started = performance.now();
  const call = await s.pool.request({ path: s.path, method: 'POST', headers: s.session, body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: 'sample', arguments: {} } }) });
  for await (const e of decodeSse(call.body)) {
    if (e.data.trim() === '') continue;
    const m = JSON.parse(e.data) as { id?: unknown; method?: string; result?: { content: Array<{ text: string }> } };
    if (m.method === 'sampling/createMessage') {
      const answer = await s.pool.request({
        path: s.path,
        method: 'POST',
        headers: s.session,
        body: JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { model: 'bench', role: 'assistant', content: { type: 'text', text: `r${n}` } } }),
      });
      await answer.body.dump();
    } else if (m.id === n) {
      if (m.result?.content[0]?.text !== `r${n}`) throw new Error(`${s.label}: round trip ${n} answered ${JSON.stringify(m)}`);
      break;
    }
  }
  await call.body.dump().catch(() => undefined);
  return performance.now() - started;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

async function measure(s: Side): Promise<{ p50: number; p99: number; mean: number }> {
  for (let i = 0; i < warmup; i++) await roundTrip(s, i + 1);
  const ms: number[] = [];
  for (let i = 0; i < rounds; i++) ms.push(await roundTrip(s, warmup + i + 1));
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

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
    const d1 = await measure(direct);
    const g1 = await measure(through);
    const d2 = await measure(direct);
    const g2 = await measure(through);
    const avg = (a: { p50: number; p99: number; mean: number }, b: typeof a) => ({ p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, mean: (a.mean + b.mean) / 2 });
    const d = avg(d1, d2);
    const g = avg(g1, g2);
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
