/**
 * `npm run bench:security` (also the last part of `npm run bench`): what sessions shared through
 * Hazelcast, bearer-token verification and policy decisions cost. Every figure is set against a
 * baseline measured in the same run, as a ratio or a share:
 *
 * 1. Session lookup: MemorySessionStore.get vs HazelcastSessionStore.get against a real member
 *    (the cached jar, a free loopback port, a cluster name of its own). Cold: the first lookup on
 *    instance B of a session instance A created (a network round trip); warm: repeated lookups
 *    served by B's local cache. Baseline: the memory store.
 * 2. JWT verification: OidcVerifier.verify with a fresh token each time (signature check) vs the
 *    same token again (the verified-token cache). Keys come from a tiny OIDC discovery + JWKS
 *    server; tokens are pre-signed with jose. Baseline: the cached verification.
 * 3. OPA: OpaPolicy.decide() against a real `opa run --server` loaded with the example policies
 *    (examples/policies) plus bench/policies/anonymous.rego (the bench caller is anonymous);
 *    baseline: a constant OPA query over the same pool (the HTTP floor). Then OPA's share of a
 *    whole tools/call: the same REST tool through a gateway with the OPA policy and one with
 *    allow-all (and one with the rules engine), in front of one trivial node:http backend.
 * 4. tools/list of 1,000 tools (20 backends × 50, pageSize 1000) through gateways with allow-all
 *    (baseline), OPA uncached (listCacheMs 0: every listing is a first listing, one batched OPA
 *    query), OPA cached (within listCacheMs) and the rules engine (cached per catalog version).
 *
 * Gateway requests are closed loop at c=1, the targets of one comparison interleaved request by
 * request (rotating the order each round), so drift in machine load hits both sides alike. The
 * gateways run in this process: at c=1 the client and the gateway never run at the same time.
 *
 * Knobs (env): BENCH_SEC_SESSIONS (2000 cold lookups), BENCH_SEC_TOKENS (1000 cold verifications
 * per algorithm), BENCH_SEC_DECIDES (2000), BENCH_SEC_CALLS (1500 per gateway),
 * BENCH_SEC_LISTS (100 per gateway). Skips Hazelcast / OPA with a note when not installed.
 */
import { mkdirSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { exportJWK, generateKeyPair, SignJWT, type JWK } from 'jose';
import { Pool, type Dispatcher } from 'undici';
import { closeServer, listen } from '../examples/backends/listen.js';
import { ANONYMOUS_CALLER } from '../src/auth/caller.js';
import { OidcVerifier } from '../src/auth/oidc.js';
import { parseConfig } from '../src/config/load.js';
import type { GatewayConfig } from '../src/config/schema.js';
import { AllowAllPolicy, type PolicyEngine } from '../src/policy/engine.js';
import { policySubject, toolPart, type PolicyInput } from '../src/policy/input.js';
import { OpaPolicy } from '../src/policy/opa.js';
import { RulesPolicy } from '../src/policy/rules.js';
import { HazelcastSessionStore } from '../src/session/hazelcast-store.js';
import { MemorySessionStore } from '../src/session/memory-store.js';
import { ANONYMOUS, newSessionId, type SessionRecord, type SessionStore } from '../src/session/store.js';
import { runStandalone, type RunningGateway } from '../src/standalone/run.js';
import { createLogger } from '../src/telemetry/logger.js';
import { createAgent } from '../src/upstream/transport.js';
import { GATEWAY_BASE, GET_ORDER_TOOL, listingConfig } from './configs.js';
import { firstMessage, openSession, type SessionHeaders } from './mcp-session.js';
import { hazelcastJar, opaBin } from '../test/harness/components.js';
import { startHazelcast, type HazelcastHandle } from '../test/harness/hazelcast.js';
import { startOpa, type OpaHandle } from '../test/harness/opa.js';
import { installed } from './installed.js';
import { distDir, env } from './plan.js';
import { percentile } from './stats.js';

const N = {
  sessions: env('BENCH_SEC_SESSIONS', 2000),
  tokens: env('BENCH_SEC_TOKENS', 1000),
  decides: env('BENCH_SEC_DECIDES', 2000),
  calls: env('BENCH_SEC_CALLS', 1500),
  lists: env('BENCH_SEC_LISTS', 100),
};
const silent = createLogger('silent');

// ---------------------------------------------------------------------------------------------
// Measuring and reporting

/** Latencies in µs; `opsPerSec` from the loop's wall time (sequential: 1 / mean latency). */
interface Fig {
  readonly n: number;
  readonly p50: number;
  readonly p99: number;
  readonly max: number;
  readonly opsPerSec: number;
}

interface Line {
  readonly label: string;
  readonly fig: Fig;
  /** Text for the "vs baseline" column. */
  readonly vs?: string;
}

const hr = process.hrtime.bigint;
const sinceUs = (t0: bigint): number => Number(hr() - t0) / 1e3;

function fig(us: Float64Array, seconds: number): Fig {
  const s = us.slice().sort();
  return { n: s.length, p50: percentile(s, 50), p99: percentile(s, 99), max: s.length ? s[s.length - 1]! : NaN, opsPerSec: s.length / seconds };
}

/** `n` sequential awaited calls, each timed; stops early after `maxMs`. */
async function timed(n: number, op: (i: number) => Promise<unknown>, maxMs = 15_000): Promise<Fig> {
  const us = new Float64Array(n);
  const start = hr();
  const deadline = start + BigInt(maxMs) * 1_000_000n;
  let i = 0;
  for (; i < n; i++) {
    const t0 = hr();
    if (t0 > deadline) break;
    await op(i);
    us[i] = sinceUs(t0);
  }
  return fig(us.subarray(0, i), Number(hr() - start) / 1e9);
}

/** Calls per second of `n` sequential awaited calls with no per-call timer (for sub-µs operations). */
async function rate(n: number, op: (i: number) => Promise<unknown>): Promise<number> {
  const start = hr();
  for (let i = 0; i < n; i++) await op(i);
  return n / (Number(hr() - start) / 1e9);
}

/**
 * Closed loop at c=1 over several targets, interleaved: each round sends one request to every
 * target, starting with a different one each round. Returns one Fig per target.
 */
async function interleaved(targets: ReadonlyArray<() => Promise<void>>, warmup: number, n: number, maxMs: number): Promise<Fig[]> {
  const k = targets.length;
  for (let r = 0; r < warmup; r++) for (const t of targets) await t();
  const us = targets.map(() => new Float64Array(n));
  const start = hr();
  const deadline = start + BigInt(maxMs) * 1_000_000n;
  let r = 0;
  for (; r < n && hr() < deadline; r++) {
    for (let j = 0; j < k; j++) {
      const i = (r + j) % k;
      const t0 = hr();
      await targets[i]!();
      us[i]![r] = sinceUs(t0);
    }
  }
  const seconds = Number(hr() - start) / 1e9;
  // Each target got 1/k of the wall time; its own rate is its count over its own summed latency.
  return us.map((a) => {
    const part = a.subarray(0, r);
    let sum = 0;
    for (const v of part) sum += v;
    return { ...fig(part, seconds), opsPerSec: part.length / (sum / 1e6) };
  });
}

const pad = (s: string, n: number): string => (s.length >= n ? s : s + ' '.repeat(n - s.length));
const lpad = (s: string, n: number): string => (s.length >= n ? s : ' '.repeat(n - s.length) + s);
/** µs, or ms with `ms`, at a sensible precision. */
const num = (us: number, ms = false): string => {
  const v = ms ? us / 1e3 : us;
  return !Number.isFinite(v) ? '-' : v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v >= 1 ? v.toFixed(2) : v.toFixed(3);
};
const ops = (v: number): string => (!Number.isFinite(v) ? '-' : v >= 1e6 ? `${(v / 1e6).toFixed(2)}M` : v >= 1e4 ? `${(v / 1e3).toFixed(0)}k` : v.toFixed(0));
const x = (v: number): string => (Number.isFinite(v) ? `${v >= 10 ? v.toFixed(0) : v.toFixed(2)}×` : '-');
/** A signed difference in µs (or ms). */
const delta = (us: number, ms = false): string => `${us < 0 ? '−' : '+'}${num(Math.abs(us), ms)}`;
const pct = (v: number): string => (Number.isFinite(v) ? `${(v * 100).toFixed(1)}%` : '-');

function printTable(title: string, unit: 'µs' | 'ms', lines: readonly Line[], notes: readonly string[] = []): void {
  const ms = unit === 'ms';
  const w = Math.max(44, ...lines.map((l) => l.label.length));
  const head = `${pad('', w)} ${lpad('n', 6)} ${lpad(`p50 ${unit}`, 9)} ${lpad(`p99 ${unit}`, 9)} ${lpad(`max ${unit}`, 9)} ${lpad('ops/s', 7)}  vs baseline`;
  console.log(`\n${title}`);
  console.log(head);
  console.log('-'.repeat(head.length + 14));
  for (const l of lines) {
    const f = l.fig;
    console.log(`${pad(l.label, w)} ${lpad(String(f.n), 6)} ${lpad(num(f.p50, ms), 9)} ${lpad(num(f.p99, ms), 9)} ${lpad(num(f.max, ms), 9)} ${lpad(ops(f.opsPerSec), 7)}  ${l.vs ?? ''}`);
  }
  for (const n of notes) console.log(`  ${n}`);
}

/** JSON form of a table: latencies in µs. */
const rows = (lines: readonly Line[]) => lines.map((l) => ({ label: l.label, n: l.fig.n, p50Us: l.fig.p50, p99Us: l.fig.p99, maxUs: l.fig.max, opsPerSec: l.fig.opsPerSec, vs: l.vs ?? null }));

const results: Record<string, unknown> = {};
const skipped: string[] = [];

// ---------------------------------------------------------------------------------------------
// 1. Session lookup

function sessionRecord(id: string): SessionRecord {
  const now = Date.now();
  return {
    id,
    principal: ANONYMOUS,
    protocolVersion: '2025-11-25',
    clientInfo: { name: 'mcp-gateway-bench', version: '1' },
    clientCapabilities: { roots: { listChanged: true } },
    backendSessions: { notes: { instance: 'http://127.0.0.1:9001', sessionId: newSessionId(), protocolVersion: '2025-11-25' } },
    createdAt: now,
    lastSeenAt: now,
  };
}

async function createMany(store: SessionStore, n: number): Promise<string[]> {
  const ids = Array.from({ length: n }, () => newSessionId());
  for (let i = 0; i < n; i += 64) await Promise.all(ids.slice(i, i + 64).map((id) => store.create(sessionRecord(id))));
  return ids;
}

const WARM_SET = 100;
const WARM_OPS = 100_000;

async function sessions(hz: HazelcastHandle | undefined, cluster: string): Promise<void> {
  const ttlMs = 1_800_000; // the default ttlSeconds: local cache copies live min(touch interval, 2 s)
  const mem = new MemorySessionStore(ttlMs);
  const memIds = await createMany(mem, 2 * N.sessions + WARM_SET);
  const memCold = { ...(await timed(N.sessions, (i) => mem.get(memIds[i]!))), opsPerSec: await rate(N.sessions, (i) => mem.get(memIds[N.sessions + i]!)) };
  const memWarmIds = memIds.slice(-WARM_SET);
  await timed(WARM_OPS, (i) => mem.get(memWarmIds[i % WARM_SET]!)); // JIT
  const memWarm = { ...(await timed(WARM_OPS, (i) => mem.get(memWarmIds[i % WARM_SET]!))), opsPerSec: await rate(WARM_OPS, (i) => mem.get(memWarmIds[i % WARM_SET]!)) };
  await mem.close();
  const lines: Line[] = [
    { label: 'memory get, first lookup of each session', fig: memCold, vs: 'baseline (cold)' },
    { label: 'memory get, repeated (100 sessions)', fig: memWarm, vs: 'baseline (warm)' },
  ];
  const ratios: Record<string, number> = {};
  const notes: string[] = [];
  if (!hz) {
    printTable('1. Session lookup (µs; Hazelcast skipped: no jar or no java)', 'µs', lines);
    results.sessions = { rows: rows(lines), ratios };
    return;
  }
  const opts = { clusterName: cluster, members: [`127.0.0.1:${hz.port}`], mapName: 'bench-sessions', ttlMs, invocationTimeoutMs: 2_000, logger: silent };
  const [a, b] = await Promise.all([HazelcastSessionStore.open(opts), HazelcastSessionStore.open(opts)]);
  try {
    // A creates, B looks up: B has never seen these sessions, so each first get is a round trip.
    const warmupIds = await createMany(a, 1000);
    for (const id of warmupIds) await b.get(id);
    const ids = await createMany(a, N.sessions);
    const cold = await timed(N.sessions, async (i) => {
      if (!(await b.get(ids[i]!))) throw new Error('session created on instance A not found on instance B');
    });
    /** A phase of warm lookups within B's cache window: fresh sessions fetched once, then looped for ≤ 0.8 s. */
    const warmPhase = async <T>(run: (get: (i: number) => Promise<unknown>) => Promise<T>): Promise<T> => {
      const set = await createMany(a, WARM_SET);
      for (const id of set) await b.get(id);
      await new Promise((r) => setTimeout(r, 20)); // let the first-use touch (setTtl) answer
      return run((i) => b.get(set[i % WARM_SET]!));
    };
    await warmPhase((get) => timed(WARM_OPS, get, 800)); // JIT
    const warm = await warmPhase((get) => timed(WARM_OPS, get, 800));
    const warmRate = await warmPhase((get) => rate(Math.min(WARM_OPS, Math.floor(warm.opsPerSec * 0.7)), get));
    const slow = warm.n - Math.round(warm.n * 0.99); // how many samples p99 ignores
    lines.push(
      { label: 'Hazelcast get, cold (created by another instance)', fig: cold, vs: `${x(cold.p50 / memCold.p50)} memory p50, ${x(cold.p99 / memCold.p99)} p99` },
      { label: 'Hazelcast get, warm (local cache, 100 sessions)', fig: { ...warm, opsPerSec: warmRate }, vs: `${x(warm.p50 / memWarm.p50)} memory p50, ${x(warm.p99 / memWarm.p99)} p99` },
    );
    ratios.coldHazelcastOverMemoryP50 = cold.p50 / memCold.p50;
    ratios.coldHazelcastOverMemoryP99 = cold.p99 / memCold.p99;
    ratios.warmHazelcastOverMemoryP50 = warm.p50 / memWarm.p50;
    ratios.warmHazelcastOverMemoryP99 = warm.p99 / memWarm.p99;
    ratios.warmHazelcastOverMemoryOpsPerSec = warmRate / memWarm.opsPerSec;
    ratios.coldOverWarmHazelcastP50 = cold.p50 / warm.p50;
    notes.push(
      `warm Hazelcast / memory: p50 ${x(ratios.warmHazelcastOverMemoryP50)}, p99 ${x(ratios.warmHazelcastOverMemoryP99)}, ops/s ${x(ratios.warmHazelcastOverMemoryOpsPerSec)}; cold / warm Hazelcast p50 ${x(ratios.coldOverWarmHazelcastP50)}`,
      `cold = sequential (c=1) round trips to a one-member cluster on loopback (ops/s = 1 / mean); other ops/s from untimed loops; warm p99 leaves out the slowest ${slow} of ${warm.n}`,
    );
  } finally {
    await Promise.allSettled([a.close(), b.close()]);
  }
  printTable('1. Session lookup (µs)', 'µs', lines, notes);
  results.sessions = { rows: rows(lines), ratios };
}

// ---------------------------------------------------------------------------------------------
// 2. JWT verification

async function jwt(): Promise<void> {
  const audience = 'https://mcp-gateway.bench/mcp';
  const keys: JWK[] = [];
  const signers: Array<{ alg: string; kid: string; key: Awaited<ReturnType<typeof generateKeyPair>>['privateKey'] }> = [];
  const tokenBytes: Record<string, number> = {};
  for (const alg of ['RS256', 'ES256']) {
    const { publicKey, privateKey } = await generateKeyPair(alg);
    const kid = `bench-${alg.toLowerCase()}`;
    keys.push({ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' });
    signers.push({ alg, kid, key: privateKey });
  }
  let jwksFetches = 0;
  let issuer = '';
  const server = createServer((req, res) => {
    const body =
      req.url === '/.well-known/openid-configuration' ? { issuer, jwks_uri: `${issuer}/jwks` }
      : req.url === '/jwks' ? (jwksFetches++, { keys })
      : undefined;
    if (!body) return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  issuer = await listen(server);
  const verifier = new OidcVerifier({ issuer, audience, algorithms: ['RS256', 'ES256'], clockToleranceSeconds: 30, rolesClaim: 'roles', tokenTypes: ['at+jwt', 'JWT'], logger: silent });
  const lines: Line[] = [];
  const ratios: Record<string, number> = {};
  try {
    await verifier.start();
    for (const s of signers) {
      const sign = (i: number): Promise<string> =>
        new SignJWT({ roles: ['analyst'], scope: 'tools:call orders:read', client_id: 'bench-client', jti: `${s.alg}-${i}` })
          .setProtectedHeader({ alg: s.alg, kid: s.kid, typ: 'at+jwt' })
          .setIssuer(issuer)
          .setAudience(audience)
          .setSubject(`user-${i % 50}`)
          .setIssuedAt()
          .setExpirationTime('10m')
          .sign(s.key);
      const tokens = await Promise.all(Array.from({ length: N.tokens + 200 }, (_, i) => sign(i)));
      tokenBytes[s.alg] = tokens[0]!.length;
      const warmup = tokens.slice(0, 200);
      const fresh = tokens.slice(200);
      for (const t of warmup) await verifier.verify(t); // JWKS fetch, JIT; these are now cached
      const cold = await timed(fresh.length, (i) => verifier.verify(fresh[i]!));
      const cached = { ...(await timed(20_000, (i) => verifier.verify(warmup[i % 200]!))), opsPerSec: await rate(20_000, (i) => verifier.verify(warmup[i % 200]!)) };
      ratios[`${s.alg}ColdOverCachedP50`] = cold.p50 / cached.p50;
      ratios[`${s.alg}ColdOverCachedP99`] = cold.p99 / cached.p99;
      lines.push(
        { label: `${s.alg} verify, same token again (cached)`, fig: cached, vs: 'baseline' },
        { label: `${s.alg} verify, new token each time (signature)`, fig: cold, vs: `${x(cold.p50 / cached.p50)} cached p50, ${x(cold.p99 / cached.p99)} p99` },
      );
    }
  } finally {
    verifier.stop();
    await closeServer(server);
  }
  printTable('2. JWT verification, OidcVerifier.verify (µs)', 'µs', lines, [
    `cold / cached p50: RS256 ${x(ratios.RS256ColdOverCachedP50!)}, ES256 ${x(ratios.ES256ColdOverCachedP50!)}; RS256 = 2048-bit RSA; tokens ${tokenBytes.RS256} / ${tokenBytes.ES256} bytes; JWKS fetched ${jwksFetches}× in total (keys cached by jose)`,
  ]);
  results.jwt = { rows: rows(lines), ratios, jwksFetches };
}

// ---------------------------------------------------------------------------------------------
// 3 and 4. OPA: decisions, tools/call share, tools/list filtering

/** The repository root (this file runs as dist/bench/security.js, or from bench/ with a TS runner). */
function repoFile(path: string): string | undefined {
  for (const up of ['../../', '../']) {
    const p = fileURLToPath(new URL(`${up}${path}`, import.meta.url));
    if (existsSync(p)) return p;
  }
  return undefined;
}

/** The REST backend for tool calls: any GET answers one small order as JSON. */
async function startBackend(): Promise<{ url: string; close: () => Promise<void> }> {
  const body = Buffer.from(JSON.stringify({ id: '1001', status: 'shipped', items: [{ sku: 'KB-1', name: 'keyboard', qty: 1 }], total: 49.9 }));
  const server = createServer((_req, res) => void res.writeHead(200, { 'content-type': 'application/json', 'content-length': body.length }).end(body));
  const url = await listen(server);
  return { url, close: () => closeServer(server) };
}

function callsConfig(backend: string, policy: unknown): Readonly<GatewayConfig> {
  return parseConfig({
    ...GATEWAY_BASE,
    policy,
    backends: [
      {
        name: 'orders',
        kind: 'rest',
        urls: [backend],
        tools: [GET_ORDER_TOOL],
      },
    ],
  });
}

/** Rules that make the engine scan globs for every tool, and still let the anonymous bench caller see and call everything. */
const RULES = [
  { tools: ['*_cancel_*', '*_delete_*'], allow: { roles: ['admin'] } },
  { tools: ['svc0*_op_4*'], allow: { roles: ['analyst'], subjects: ['anonymous'] } },
  { tools: ['*'], allow: { roles: ['admin', 'analyst'], subjects: ['anonymous'] } },
];

interface GatewayClient {
  readonly gw: RunningGateway;
  readonly pool: Pool;
  readonly path: string;
  readonly session: SessionHeaders;
}

async function gatewayClient(config: Readonly<GatewayConfig>, opened: GatewayClient[]): Promise<GatewayClient> {
  const gw = await runStandalone(config);
  const u = new URL(gw.url);
  const pool = new Pool(u.origin, { connections: 1, keepAliveTimeout: 60_000 });
  const client = { gw, pool, path: u.pathname, session: {} as SessionHeaders };
  opened.push(client);
  return { ...client, session: await openSession(pool, u.pathname) };
}

let rpcId = 1;
async function rpc(c: GatewayClient, method: string, params: unknown): Promise<string> {
  const res = await c.pool.request({ path: c.path, method: 'POST', headers: c.session, body: `{"jsonrpc":"2.0","id":${rpcId++},"method":"${method}","params":${JSON.stringify(params)}}` });
  const text = await res.body.text();
  if (res.statusCode !== 200) throw new Error(`${method}: HTTP ${res.statusCode}: ${text.slice(0, 300)}`);
  return text;
}

/** A tools/call sender that fails loudly on anything but the tool's real result. */
function caller(c: GatewayClient, label: string): () => Promise<void> {
  return async () => {
    const text = await rpc(c, 'tools/call', { name: 'orders_get_order', arguments: { id: '1001' } });
    if (!text.includes('keyboard') || text.includes('"isError":true')) throw new Error(`${label}: unexpected tools/call answer: ${text.slice(0, 300)}`);
  };
}

/** A tools/list sender; the first answer is checked deeply (1,000 tools, no cursor), later ones by size. */
async function lister(c: GatewayClient, label: string): Promise<() => Promise<void>> {
  const first = await rpc(c, 'tools/list', {});
  const m = firstMessage(first) as { result?: { tools?: unknown[]; nextCursor?: string } };
  if (m.result?.tools?.length !== 1000 || m.result.nextCursor !== undefined) throw new Error(`${label}: expected 1000 tools and no cursor: ${first.slice(0, 300)}`);
  return async () => {
    const text = await rpc(c, 'tools/list', {});
    if (text.length !== first.length) throw new Error(`${label}: listing changed size (${text.length} vs ${first.length} chars): ${text.slice(0, 300)}`);
  };
}

async function policyBench(opa: OpaHandle | undefined): Promise<void> {
  const backend = await startBackend();
  const opened: GatewayClient[] = [];
  const dispatcher: Dispatcher = createAgent({ connectTimeoutMs: 2_000 });
  try {
    const globalRego = repoFile('examples/policies/gateway.rego') ?? repoFile('bench/policies/global.rego');
    const ordersRego = repoFile('examples/policies/orders.rego');
    const anonRego = repoFile('bench/policies/anonymous.rego');
    const floorRego = repoFile('bench/policies/floor.rego');
    if (!globalRego || !anonRego || !floorRego) throw new Error('bench/policies/*.rego not found next to the compiled bench');
    const opaPolicy = (listCacheMs: number) =>
      opa && { engine: 'opa', url: opa.url, policyFiles: [globalRego, anonRego, floorRego], servicePolicies: ordersRego ? { orders: ordersRego } : {}, listCacheMs };
    const policyNote = `OPA policies: ${[globalRego, anonRego, ordersRego].filter(Boolean).map((p) => p!.replace(/^.*?(examples|bench)\//, '$1/')).join(', ')} (+ src/policy/base.rego)`;

    // --- 3a. decide() in isolation
    const gAllow = await gatewayClient(callsConfig(backend.url, { engine: 'allow-all' }), opened);
    const gRules = await gatewayClient(callsConfig(backend.url, { engine: 'rules', rules: RULES }), opened);
    const gOpa = opa ? await gatewayClient(callsConfig(backend.url, opaPolicy(5_000)), opened) : undefined;
    const tool = gAllow.gw.core.catalog.current().tools.get('orders_get_order');
    if (!tool) throw new Error('orders_get_order not in the catalog');
    const input: PolicyInput = { ...policySubject(ANONYMOUS_CALLER, sessionRecord(newSessionId()), '127.0.0.1'), ...toolPart(tool, { id: '1001' }) };
    const engines: Array<[string, PolicyEngine]> = [
      ['allow-all decide()', new AllowAllPolicy()],
      ['rules decide() (3 rules, in process)', new RulesPolicy(parseConfig({ policy: { engine: 'rules', rules: RULES } }).policy as Extract<GatewayConfig['policy'], { engine: 'rules' }>)],
    ];
    const decideLines: Line[] = [];
    const ratios: Record<string, number> = {};
    let opaDecide: Fig | undefined;
    let policy: OpaPolicy | undefined;
    if (opa) {
      const cfg = parseConfig({ policy: opaPolicy(5_000) }).policy as Extract<GatewayConfig['policy'], { engine: 'opa' }>;
      policy = new OpaPolicy(cfg, dispatcher, silent);
      await policy.start();
      const d = await policy.decide(input);
      if (!d.allow) throw new Error(`OPA denies the bench caller: ${JSON.stringify(d)} (are the policies loaded?)`);
      const floorBody = JSON.stringify({ input });
      const floor = async (): Promise<void> => {
        const res = await dispatcher.request({ origin: opa.url, path: '/v1/data/mcp_bench/floor', method: 'POST', headers: { 'content-type': 'application/json' }, body: floorBody });
        const r = JSON.parse(await res.body.text()) as { result?: { allow?: boolean } };
        if (r.result?.allow !== true) throw new Error(`floor query answered ${JSON.stringify(r)}`);
      };
      const p = policy;
      const [fl, dec] = await interleaved([floor, async () => void (await p.decide(input))], 200, N.decides, 15_000);
      opaDecide = dec!;
      ratios.opaDecideOverFloorP50 = dec!.p50 / fl!.p50;
      decideLines.push(
        { label: 'OPA constant query, same input (HTTP floor)', fig: fl!, vs: 'baseline' },
        { label: 'OPA decide() (base.rego + example policies)', fig: dec!, vs: `${x(dec!.p50 / fl!.p50)} floor p50, ${delta(dec!.p50 - fl!.p50)} µs` },
      );
    } else skipped.push('OPA (no binary)');
    for (const [label, engine] of engines) {
      await timed(2_000, () => engine.decide(input));
      decideLines.push({ label, fig: { ...(await timed(20_000, () => engine.decide(input))), opsPerSec: await rate(20_000, () => engine.decide(input)) }, vs: 'in process, for scale' });
    }
    printTable(`3a. Policy decision for one tools/call, c=1 (µs)${opa ? '' : ' — OPA skipped: no binary'}`, 'µs', decideLines, opa ? [policyNote] : []);

    // --- 3b. OPA's share of a tools/call
    const callTargets = [caller(gAllow, 'allow-all'), caller(gRules, 'rules'), ...(gOpa ? [caller(gOpa, 'opa')] : [])];
    for (const t of callTargets) await t(); // deep check: every gateway answers with the real result
    const [cAllow, cRules, cOpa] = await interleaved(callTargets, 200, N.calls, 20_000);
    const callLines: Line[] = [
      { label: 'tools/call via gateway, policy allow-all', fig: cAllow!, vs: 'baseline' },
      { label: 'tools/call via gateway, policy rules', fig: cRules!, vs: `${x(cRules!.p50 / cAllow!.p50)} p50, ${delta(cRules!.p50 - cAllow!.p50, true)} ms` },
    ];
    const callNotes = ['c=1 closed loop, the gateways interleaved request by request; REST tool orders_get_order → one node:http backend; no auth (anonymous caller)'];
    if (cOpa && opaDecide) {
      const share = (cOpa.p50 - cAllow!.p50) / cOpa.p50;
      const share99 = (cOpa.p99 - cAllow!.p99) / cOpa.p99;
      ratios.opaShareOfToolsCallP50 = share;
      ratios.opaShareOfToolsCallP99 = share99;
      ratios.opaCallOverAllowAllP50 = cOpa.p50 / cAllow!.p50;
      callLines.push({ label: 'tools/call via gateway, policy opa', fig: cOpa, vs: `${x(cOpa.p50 / cAllow!.p50)} p50, ${delta(cOpa.p50 - cAllow!.p50, true)} ms` });
      callNotes.push(`OPA's share of a tools/call = (p50 opa − p50 allow-all) / p50 opa = ${pct(share)} (p99: ${pct(share99)}); added p50 ${delta(cOpa.p50 - cAllow!.p50)} µs vs decide() p50 ${num(opaDecide.p50)} µs in isolation`);
    }
    printTable('3b. tools/call through the gateway (ms)', 'ms', callLines, callNotes);
    results.policy = { decide: rows(decideLines), toolsCall: rows(callLines), ratios };

    // --- 4. tools/list of 1,000 tools
    const urls = { orders: backend.url, echo: backend.url, stub: backend.url };
    const listing = (policy: unknown): Readonly<GatewayConfig> => parseConfig({ ...listingConfig(urls, 1000), policy });
    const lAllow = await gatewayClient(listing({ engine: 'allow-all' }), opened);
    const lRules = await gatewayClient(listing({ engine: 'rules', rules: RULES }), opened);
    const lists = [await lister(lAllow, 'allow-all'), await lister(lRules, 'rules')];
    let firstCached: number | undefined;
    if (opa) {
      const lOpa0 = await gatewayClient(listing(opaPolicy(0)), opened);
      const lOpa = await gatewayClient(listing(opaPolicy(60_000)), opened);
      const t0 = hr();
      lists.push(await lister(lOpa0, 'opa uncached'), await lister(lOpa, 'opa cached'));
      firstCached = sinceUs(t0);
    }
    const [lfAllow, lfRules, lfOpa0, lfOpa] = await interleaved(lists, 10, N.lists, 30_000);
    const vs = (f: Fig): string => `${x(f.p50 / lfAllow!.p50)} p50, ${x(f.p99 / lfAllow!.p99)} p99`;
    const listLines: Line[] = [
      { label: 'allow-all (pre-serialised page)', fig: lfAllow!, vs: 'baseline' },
      { label: 'rules (cached per caller and catalog version)', fig: lfRules!, vs: vs(lfRules!) },
    ];
    if (lfOpa0 && lfOpa) {
      listLines.push(
        { label: 'opa, first listing (listCacheMs 0: 1 batched query)', fig: lfOpa0, vs: vs(lfOpa0) },
        { label: 'opa, cached listing (within listCacheMs)', fig: lfOpa, vs: vs(lfOpa) },
      );
      ratios.listOpaUncachedOverAllowAllP50 = lfOpa0.p50 / lfAllow!.p50;
      ratios.listOpaCachedOverAllowAllP50 = lfOpa.p50 / lfAllow!.p50;
      ratios.listOpaShareOfUncachedListingP50 = (lfOpa0.p50 - lfAllow!.p50) / lfOpa0.p50;
    }
    ratios.listRulesOverAllowAllP50 = lfRules!.p50 / lfAllow!.p50;
    const listNotesOpa: string[] = [];
    if (opa && policy && lfOpa0) {
      // Where an uncached OPA listing goes: the batched query alone, and OPA's floor for an input that large.
      const p = policy;
      const tools = lAllow.gw.core.catalog.current().sorted;
      const subject = policySubject(ANONYMOUS_CALLER, sessionRecord(newSessionId()), '127.0.0.1');
      const items = tools.map((t) => toolPart(t, {}));
      const body = JSON.stringify({ input: { ...subject, items } });
      const visible = async (): Promise<void> => {
        const seen = await p.visible(subject, items);
        if (seen.size !== tools.length) throw new Error(`OPA shows ${seen.size} of ${tools.length} tools`);
      };
      const bigFloor = async (): Promise<void> => {
        const res = await dispatcher.request({ origin: opa.url, path: '/v1/data/mcp_bench/floor', method: 'POST', headers: { 'content-type': 'application/json' }, body });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`floor query: HTTP ${res.statusCode}`);
      };
      const [vis, big] = await interleaved([visible, bigFloor], 3, Math.min(N.lists, 40), 10_000);
      listLines.push(
        { label: '  of which OpaPolicy.visible() (1 query, 1,000 items)', fig: vis!, vs: `${pct(vis!.p50 / lfOpa0.p50)} of the opa first listing p50` },
        { label: '  of which OPA constant query, same 1,000-item input', fig: big!, vs: `${pct(big!.p50 / lfOpa0.p50)} (HTTP + JSON floor)` },
      );
      ratios.listOpaVisibleShareOfUncachedP50 = vis!.p50 / lfOpa0.p50;
      ratios.listOpaInputFloorShareOfUncachedP50 = big!.p50 / lfOpa0.p50;
      listNotesOpa.push(`the batched query sends ${(Buffer.byteLength(body) / 1024).toFixed(0)} KiB of input to OPA; evaluation alone ≈ visible() − constant query = ${num(vis!.p50 - big!.p50, true)} ms p50`);
    }
    const listNotes = [
      '20 backends × 50 tools, pageSize 1000, ~400 KiB per listing; c=1, the gateways interleaved; all 1,000 tools visible to the caller',
      'rules: listings are cached per caller and catalog version (rules change only with the configuration)',
    ];
    listNotes.push(...listNotesOpa);
    if (firstCached !== undefined) listNotes.push(`the very first listings after start (uncached + cached gateway, JIT cold) took ${num(firstCached, true)} ms together`);
    printTable('4. tools/list, 1,000 tools (ms)', 'ms', listLines, listNotes);
    results.listing = { rows: rows(listLines), ratios: Object.fromEntries(Object.entries(ratios).filter(([k]) => k.startsWith('list'))) };
  } finally {
    await Promise.allSettled(opened.map((c) => c.pool.close()));
    await Promise.allSettled(opened.map((c) => c.gw.stop()));
    await backend.close();
    await dispatcher.close();
  }
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const watchdog = setTimeout(() => {
    console.error('bench:security: gave up after 240 s');
    process.exit(1);
  }, 240_000);
  watchdog.unref();
  const started = Date.now();
  console.log(`bench:security: node ${process.version}, ${cpus().length} CPUs, load average ${loadavg()[0]!.toFixed(1)}`);
  const jar = installed(hazelcastJar);
  const opaPath = installed(opaBin);
  const cluster = `mcp-gw-bench-${process.pid}-${Date.now().toString(36)}`;
  // Both start in parallel; OPA then idles while the session figures are taken.
  const [hz, opa] = await Promise.all([jar ? startHazelcast({ clusterName: cluster }) : undefined, opaPath ? startOpa() : undefined]);
  if (!jar) skipped.push('Hazelcast (no jar)');
  try {
    try {
      await sessions(hz, cluster);
    } finally {
      await hz?.stop();
    }
    await jwt();
    await policyBench(opa);
  } finally {
    await opa?.stop();
  }
  const seconds = (Date.now() - started) / 1000;
  console.log(`\nbench:security took ${seconds.toFixed(1)} s${skipped.length ? `; skipped: ${skipped.join(', ')} (run bash scripts/install-components.sh)` : ''}`);
  const out = `${distDir}bench-security.json`;
  mkdirSync(distDir, { recursive: true });
  const meta = { date: new Date().toISOString(), node: process.version, cpus: cpus().length, loadAverage: loadavg()[0], seconds, counts: N, skipped };
  writeFileSync(out, `${JSON.stringify({ meta, ...results }, null, 2)}\n`);
  console.log(`results written to ${out}`);
}

main().catch((err: unknown) => {
  console.error('bench:security failed:', err);
  process.exitCode = 1;
});
