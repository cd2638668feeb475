/**
 * `npm run bench:sessions` (also part of `npm run bench`): what the write behind every
 * `initialize` costs as the Hazelcast cluster grows from one member to two.
 *
 * HazelcastSessionStore.create, one at a time (c=1), against real members on loopback: first a
 * one-member cluster (the baseline: one network round trip, no backup), then the same cluster
 * after a second member joined and migrations settled, through a store configured with the
 * first member only (the second is learnt from the cluster, as in production). With two
 * members each write is also copied to a backup replica, which acks the client directly; the
 * figure shows whether those acks arrive (a client that is not connected to every member waits
 * out Hazelcast's 5 s backup-ack timeout instead). MemorySessionStore.create is shown for scale.
 *
 * Knobs (env): BENCH_SESSION_WRITES (500 per store), BENCH_SESSION_WRITES_MAX_MS (20000 per
 * phase; a phase that hits it reports how many writes it managed). Skipped with a note when the
 * Hazelcast jar is not installed.
 */
import { randomUUID } from 'node:crypto';
import { cpus, loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { HazelcastSessionStore } from '../src/session/hazelcast-store.js';
import { MemorySessionStore } from '../src/session/memory-store.js';
import { ANONYMOUS, newSessionRecord, type SessionRecord, type SessionStore } from '../src/session/store.js';
import { createLogger } from '../src/telemetry/logger.js';
import { hazelcastJar } from '../test/harness/components.js';
import { startHazelcast, type HazelcastHandle } from '../test/harness/hazelcast.js';
import { installed } from './installed.js';
import { env } from './plan.js';
import { summarize, type Summary } from './stats.js';

const writes = env('BENCH_SESSION_WRITES', 500);
const maxMs = env('BENCH_SESSION_WRITES_MAX_MS', 20_000);

const record = (): SessionRecord => newSessionRecord(ANONYMOUS, '2025-11-25', { info: { name: 'mcp-gateway-bench', version: '1' } });

/** `writes` creates one after another after 50 untimed ones, all stopping early at `maxMs`. */
async function timeCreates(store: SessionStore): Promise<Summary> {
  const start = performance.now();
  for (let i = 0; i < 50 && performance.now() - start < maxMs; i++) await store.create(record());
  const lat = new Float64Array(writes);
  let n = 0;
  for (; n < writes && performance.now() - start < maxMs; n++) {
    const t0 = performance.now();
    await store.create(record());
    lat[n] = performance.now() - t0;
  }
  return summarize(lat.subarray(0, n), 0, (performance.now() - start) / 1000, 0);
}

async function hazelcastCreates(cluster: string, seed: HazelcastHandle): Promise<Summary> {
  const store = await HazelcastSessionStore.open({
    clusterName: cluster,
    members: [seed.address],
    mapName: 'bench-session-writes',
    ttlMs: 1_800_000,
    invocationTimeoutMs: 10_000,
    logger: createLogger('silent'),
  });
  try {
    return await timeCreates(store);
  } finally {
    await store.close();
  }
}

const ms = (v: number): string => v.toFixed(3).padStart(9);

async function main(): Promise<void> {
  console.log(`bench:sessions: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`);
  const memory = new MemorySessionStore(1_800_000);
  const rows: Array<[string, Summary]> = [['memory store (for scale)', await timeCreates(memory)]];
  await memory.close();
  if (!installed(hazelcastJar)) {
    console.log('Hazelcast: skipped, no jar (run `bash scripts/install-components.sh`).');
  } else {
    const cluster = `mcp-gw-bench-${randomUUID()}`;
    const first = await startHazelcast({ clusterName: cluster });
    let second: HazelcastHandle | undefined;
    try {
      const one = await hazelcastCreates(cluster, first);
      second = await startHazelcast({ clusterName: cluster, members: [first.port] });
      await first.waitForMembers(2);
      await first.waitClusterSafe();
      const two = await hazelcastCreates(cluster, first);
      rows.push(['Hazelcast, one member (baseline)', one], ['Hazelcast, two members (with backup)', two]);
    } finally {
      await Promise.allSettled([first.stop(), second?.stop()]);
    }
  }
  const base = rows.find(([label]) => label.includes('baseline'))?.[1];
  console.log(`\nSession create (the write behind initialize), c=1, ms:`);
  console.log(`${'store'.padEnd(40)} ${'n'.padStart(5)} ${'p50'.padStart(9)} ${'p99'.padStart(9)} ${'max'.padStart(9)}  vs one member (p50, p99)`);
  for (const [label, s] of rows) {
    const vs = base && s !== base && !label.startsWith('memory') ? `${(s.p50 / base.p50).toFixed(2)}×, ${(s.p99 / base.p99).toFixed(2)}×` : '';
    const short = s.count < writes ? `  (only ${s.count} of ${writes} in ${maxMs} ms)` : '';
    console.log(`${label.padEnd(40)} ${String(s.count).padStart(5)} ${ms(s.p50)} ${ms(s.p99)} ${ms(s.max)}  ${vs}${short}`);
  }
}

main().catch((err: unknown) => {
  console.error('bench:sessions failed:', err);
  process.exitCode = 1;
});
