/**
 * One sampling round trip as a session-era client makes it (tools/call → the server asks the
 * client model on the call's SSE stream → the client POSTs its answer → the result), timed, for
 * the relay benches. The answer may be POSTed through another pool than the call's: another
 * gateway instance sharing the session store, as a load balancer may send it.
 */
import { Pool } from 'undici';
import { openSession, type SessionHeaders } from './mcp-session.js';
import { decodeSse } from '../src/mcp/sse.js';

/** An endpoint with an open session that declared sampling. */
export interface Side {
  readonly label: string;
  readonly pool: Pool;
  readonly path: string;
  readonly session: SessionHeaders;
}

/** What is called, and how the client's answer shows in the result (`r<n>` is the answer's text). */
export interface SamplingCall {
  readonly tool: string;
  readonly arguments: Record<string, unknown>;
  readonly answered: (resultText: string, n: number) => boolean;
}

/** Open a keep-alive pool and a session declaring sampling; with `session`, reuse that session (another instance of the same cluster). */
export async function side(label: string, url: string, session?: SessionHeaders): Promise<Side> {
  const u = new URL(url);
  const pool = new Pool(u.origin, { connections: 4 });
  return { label, pool, path: u.pathname, session: session ?? (await openSession(pool, u.pathname, { sampling: {} })) };
}

/** One sampling round trip; resolves with its duration in ms. The answer goes through `answerVia` (default: the call's side). */
export async function roundTrip(s: Side, call: SamplingCall, n: number, answerVia: Side = s): Promise<number> {
  const started = performance.now();
  const reply = await s.pool.request({ path: s.path, method: 'POST', headers: s.session, body: JSON.stringify({ jsonrpc: '2.0', id: n, method: 'tools/call', params: { name: call.tool, arguments: call.arguments } }) });
  for await (const e of decodeSse(reply.body)) {
    if (e.data.trim() === '') continue;
    const m = JSON.parse(e.data) as { id?: unknown; method?: string; result?: { content: Array<{ text: string }> } };
    if (m.method === 'sampling/createMessage') {
      const answer = await answerVia.pool.request({
        path: answerVia.path,
        method: 'POST',
        headers: answerVia.session,
        body: JSON.stringify({ jsonrpc: '2.0', id: m.id, result: { model: 'bench', role: 'assistant', content: { type: 'text', text: `r${n}` } } }),
      });
      await answer.body.dump();
    } else if (m.id === n) {
      if (!call.answered(m.result?.content[0]?.text ?? '', n)) throw new Error(`${s.label}: round trip ${n} answered ${JSON.stringify(m)}`);
      break;
    }
  }
  await reply.body.dump().catch(() => undefined);
  return performance.now() - started;
}

export interface Latency {
  readonly p50: number;
  readonly p99: number;
  readonly mean: number;
}

/** `warmup` untimed round trips, then `rounds` timed ones (c=1); `first` numbers them. */
export async function measure(s: Side, call: SamplingCall, opts: { rounds: number; warmup: number; first?: number; answerVia?: Side }): Promise<Latency> {
  let n = opts.first ?? 1;
  for (let i = 0; i < opts.warmup; i++) await roundTrip(s, call, n++, opts.answerVia);
  const ms: number[] = [];
  for (let i = 0; i < opts.rounds; i++) ms.push(await roundTrip(s, call, n++, opts.answerVia));
  ms.sort((a, b) => a - b);
  const at = (p: number): number => ms[Math.min(ms.length - 1, Math.floor((p / 100) * ms.length))]!;
  return { p50: at(50), p99: at(99), mean: ms.reduce((a, b) => a + b, 0) / ms.length };
}

/** The mean of two halves measured apart (so drift hits both sides of a comparison alike). */
export function averaged(a: Latency, b: Latency): Latency {
  return { p50: (a.p50 + b.p50) / 2, p99: (a.p99 + b.p99) / 2, mean: (a.mean + b.mean) / 2 };
}
