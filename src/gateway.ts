import type { Logger } from 'pino';
import { StatelessConfirmations } from './confirm/stateless.js';
import { createRedactor } from './telemetry/redact.js';
import type { Dispatcher } from 'undici';
import { Admission } from './admission/admit.js';
import { effectiveAllowedHosts } from './admission/host.js';
import { Broker } from './broker/broker.js';
import { StreamHub } from './broker/streams.js';
import { StreamDelivery } from './broker/stream-delivery.js';
import { ListenFanout } from './broker/listen-fanout.js';
import type { EventLog } from './events/log.js';
import { openEventLog } from './events/open.js';
import { Catalog } from './catalog/catalog.js';
import { openCatalogSource } from './catalog/open.js';
import { consulClient } from './catalog/consul/client.js';
import { OpenApiImporter } from './catalog/openapi/importer.js';
import { FETCH_TIMEOUT_MS as OPENAPI_FETCH_TIMEOUT_MS } from './catalog/openapi/document.js';
import type { CatalogSource } from './catalog/source.js';
import { assertNoStaticCollisions } from './catalog/static-check.js';
import { assertNoStaticRenameCollisions, VirtualServers } from './catalog/virtual-servers.js';
import { watchVirtualServers } from './catalog/consul/virtual-servers.js';
import type { GatewayConfig } from './config/schema.js';
import { openSessionStore } from './session/open.js';
import type { SessionStore } from './session/store.js';
import { DirectCalls } from './upstream/direct.js';
import { McpBackends } from './upstream/mcp-backend.js';
import { McpDiscovery } from './upstream/mcp-discovery.js';
import { ClientRelay } from './upstream/client-relay.js';
import type { BackendDescriptor } from './catalog/model.js';
import { BackendStreams } from './upstream/backend-streams.js';
import { takeOverFollowings } from './upstream/follow-handover.js';
import { Pools } from './upstream/pool.js';
import { ConcurrencyCaps } from './upstream/concurrency.js';
import { BackendEras } from './upstream/backend-eras.js';
import { StatelessBackends } from './upstream/stateless-backend.js';
import { OutboundCredentials } from './upstream/credentials.js';
import { assertSecretsResolvable } from './upstream/secret-ref.js';
import { restExecutor } from './upstream/rest.js';
import { restPublishedExecutor } from './upstream/rest-published.js';
import { createAgent } from './upstream/transport.js';
import { VERSION } from './version.js';
import { AnonymousAuthenticator, BearerAuthenticator, type Authenticator } from './auth/authenticator.js';
import { OidcVerifier } from './auth/oidc.js';
import { createPolicy } from './policy/create.js';
import { watchPolicySnippets } from './policy/consul-snippets.js';
import { OpaPolicy } from './policy/opa.js';
import type { PolicyBundle } from './policy/bundle.js';
import { ListVisibility } from './policy/visibility.js';
import { Telemetry } from './telemetry/telemetry.js';
import { healthReport, type HealthReport } from './health.js';
import { coreChecks } from './health-checks.js';
import { openPins } from './pinning/open.js';
import type { DefinitionPins } from './pinning/pins.js';
import { loadStateKeys } from './session/state-key.js';
import { HeldCalls } from './broker/held-calls.js';
import { PassedCalls } from './broker/passed-calls.js';

/** The assembled core: what an adapter (standalone HTTP, Envoy ext_proc) drives. */
export interface GatewayCore {
  readonly config: Readonly<GatewayConfig>;
  readonly admission: Admission;
  readonly broker: Broker;
  readonly catalog: Catalog;
  readonly sessions: SessionStore;
  readonly streams: StreamHub;
  readonly authenticator: Authenticator;
  readonly logger: Logger;
  /** Audit trail, Prometheus metrics (`telemetry.metrics.registry`) and tracing of this core. */
  readonly telemetry: Telemetry;
  /** Plans native MCP calls a transport sends to the backend itself (the Envoy topology). */
  readonly direct: DirectCalls;
  /** Pinned tool and prompt definitions and their approvals; absent when pinning is off everywhere. */
  readonly pins: DefinitionPins | undefined;
  /** The endpoints `<server.path>/<name>` in force (configuration and Consul). */
  readonly virtualServers: VirtualServers;
  /** The OPA bundle the admin endpoints serve (`policy.delivery: bundle`); undefined otherwise. */
  readonly policyBundle: PolicyBundle | undefined;
  /** Readiness of the core's dependencies, with reasons (admin `/readyz`, `/healthz`). */
  health(): HealthReport;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export interface GatewayDeps {
  readonly logger: Logger;
  /** Overrides for tests and other topologies; defaults follow the configuration. */
  readonly sessions?: SessionStore;
  readonly source?: CatalogSource;
  readonly dispatcher?: Dispatcher;
  readonly events?: EventLog;
}

/** Wire the core from a validated configuration. Rejects with ConfigError for clashing tool names. */
export async function createGateway(config: Readonly<GatewayConfig>, deps: GatewayDeps): Promise<GatewayCore> {
  assertNoStaticCollisions(config.backends, config.catalog.separator);
  assertNoStaticRenameCollisions(config.virtualServers, config.backends, config.catalog.separator);
  assertSecretsResolvable(config);
  const { logger } = deps;
  // Read before anything opens: a missing secret stops the gateway at start, with nothing to close.
  const stateKeys = await loadStateKeys(config.stateless.stateKey);
  const sessions = deps.sessions ?? (await openSessionStore(config.sessions, logger));
  const dispatcher = deps.dispatcher ?? createAgent({ connectTimeoutMs: config.upstream.connectTimeoutMs });
  const pools = new Pools(config.upstream.cooldownMs);
  const credentials = new OutboundCredentials(dispatcher, logger, {
    exchangeCacheEntries: config.upstream.tokenExchangeCacheEntries,
    // Telemetry is opened below; exchanges only happen once calls run.
    onExchange: (backend, outcome) => telemetry.metrics.tokenExchange(backend, outcome),
  });
  // Bound once the broker exists: it decides where a followed backend's notifications go.
  let broker: Broker | undefined;
  const followed = new BackendStreams(dispatcher, (sid, message, from) => broker?.backendNotification(sid, message, from), logger, sessions.follows);
  const policy = createPolicy(config.policy, dispatcher, logger);
  const clientInfo = { name: 'mcp-gateway', version: VERSION };
  // What each native backend speaks, shared by discovery (which probes it) and calls (which read it).
  const eras = new BackendEras(dispatcher, pools, clientInfo, { credentials, defaultTimeoutMs: config.upstream.timeoutMs });
  const stateless = new StatelessBackends(dispatcher, pools);
  // The catalog, telemetry and GET streams are built below; the relay reads them only once calls run.
  const relay = new ClientRelay({
    sessions,
    dispatcher,
    credentials,
    policy,
    backends: (): ReadonlyMap<string, BackendDescriptor> => catalog.current().backends,
    notifyClient: (sid, message): void => delivery.send(sid, message),
    audit: (facts): void => telemetry.relayed(facts),
    logger,
  });
  const mcp = new McpBackends({
    relay,
    streams: followed,
    dispatcher,
    pools,
    sessions,
    defaultTimeoutMs: config.upstream.timeoutMs,
    credentials,
    logger,
    clientInfo,
    eras,
    stateless,
  });
  // Reports go to telemetry, which is opened below (after the catalog it reads).
  const pins = await openPins(config, logger, (r) => telemetry.pinned(r));
  const discovery = new McpDiscovery({ dispatcher, pools, defaultTimeoutMs: config.upstream.timeoutMs, credentials, clientInfo, eras, stateless });
  const consul = config.catalog.consul;
  const openapi = new OpenApiImporter({ dispatcher, ...(consul ? { consul: { client: consulClient({ ...consul, timeoutMs: OPENAPI_FETCH_TIMEOUT_MS }), url: consul.url } } : {}) }, logger.child({ component: 'openapi' }));
  const catalog = new Catalog({
    source: deps.source ?? openCatalogSource(config, logger),
    discover: (backend, signal) => discovery.discover(backend, signal),
    openapi,
    watch: (backend, changed, signal) => discovery.watchLists(backend, changed, signal),
    separator: config.catalog.separator,
    pageSize: config.catalog.pageSize,
    refreshIntervalMs: config.catalog.refreshIntervalMs,
    logger,
    ...(pins ? { pins } : {}),
  });
  pins?.onChange(() => catalog.reapply());
  // The checks are assembled below; metrics read them only when scraped.
  const caps = new ConcurrencyCaps();
  const telemetry = await Telemetry.open(config, { logger, sessions, catalog, pools, pins, caps, health: () => healthReport(checks) }).catch(async (err: unknown) => {
    await pins?.stop();
    if (!deps.sessions) await sessions.close();
    if (!deps.dispatcher) await dispatcher.close();
    await openapi.close();
    throw err;
  });
  const events = deps.events ?? (await openEventLog(config, logger, (result) => telemetry.metrics.streamResumed(result)));
  const streams = new StreamHub(events);
  // A holder of the session's GET stream claims a handed-off message within one store operation.
  const handoffMs = config.sessions.hazelcast.invocationTimeoutMs + 500;
  const delivery = new StreamDelivery({ hub: streams, sessions, claimMs: handoffMs, logger });
  // Heard by the other instances at once; kept as long so one that reconnects within it reads it again.
  const fanout = new ListenFanout({ sessions, ttlMs: handoffMs, logger });
  if (!stateKeys.shared) logger.debug('stateless.stateKey not configured: requestState and held sessions use a random key of this process');
  const serverInfo = { name: 'mcp-gateway', version: VERSION, title: 'MCP Gateway' };
  // Arguments a user is asked to confirm are shown as the audit trail records them.
  const redact = createRedactor(config.audit.redact);
  const sealing = { relay, sealKey: stateKeys.seal, serverInfo, stateTtlMs: config.stateless.requestStateTtlMs };
  const held = new HeldCalls({ ...sealing, log: events, settleMs: config.stateless.inputSettleMs, sessions, logger });
  const passed = new PassedCalls(sealing);
  const verifier = config.auth ? new OidcVerifier({ ...config.auth, logger }) : undefined;
  const authenticator = config.auth && verifier ? new BearerAuthenticator(config.auth, verifier, config.server.path) : new AnonymousAuthenticator();
  let stopSnippets: (() => Promise<void>) | undefined;
  let stopVirtualServers: (() => Promise<void>) | undefined;
  const virtualServers = new VirtualServers(config.virtualServers, config.server.path, logger.child({ component: 'virtual-servers' }));
  const checks = coreChecks({ sessions, verifier, policy, catalog, pins });
  // Rules only change with the configuration, so their listings live as long as the catalog version.
  const visibility = new ListVisibility(policy, config.policy.engine === 'opa' ? config.policy.listCacheMs : Number.MAX_SAFE_INTEGER);
  const rest = restExecutor({ dispatcher, pools, credentials, defaultTimeoutMs: config.upstream.timeoutMs, wantsLog: (call) => Broker.wantsInfo(call.session) });
  const direct = new DirectCalls({
    mcp,
    credentials,
    pools,
    catalog: () => catalog.current(),
    defaultTimeoutMs: config.upstream.timeoutMs,
    observeCall: (call, execute) => telemetry.observeCall(call, execute),
    sessions,
    serverInfo,
  });
  broker = new Broker({
    sessions,
    catalog,
    rest,
    restRouted: restPublishedExecutor({ dispatcher, pools, credentials, defaultTimeoutMs: config.upstream.timeoutMs }),
    mcp,
    streams,
    delivery,
    visibility,
    logger,
    limits: { maxSessionsPerPrincipal: config.sessions.maxPerPrincipal, maxStreamsPerSession: config.sessions.maxStreamsPerSession },
    serverInfo,
    stateless: {
      held,
      passed,
      fanout,
      // Shared caches may keep an answer only when it is everyone's: no authentication, no policy filtering.
      cache: { ttlMs: config.stateless.cacheTtlMs, cacheScope: config.auth || config.policy.engine !== 'allow-all' ? 'private' : 'public' },
      ...(config.stateless.instructions ? { instructions: config.stateless.instructions } : {}),
    },
    observeCall: (call, execute) => telemetry.observeCall(call, execute),
    observeRequest: (call, execute) => telemetry.observeRequest(call, execute),
    routedCalls: direct,
    caps,
    relay,
    relayTimeoutMs: config.upstream.timeoutMs,
    confirm: { relay, timeoutMs: config.confirmation.timeoutMs, redact },
  });
  const admission = new Admission({
    allowedHosts: effectiveAllowedHosts(config.server.allowedHosts, config.server.host),
    allowedOrigins: config.server.allowedOrigins,
    maxBodyBytes: config.server.maxBodyBytes,
    maxJsonDepth: config.server.maxJsonDepth,
    maxBatchSize: config.server.maxBatchSize,
    maxClientInfoBytes: config.sessions.maxClientInfoBytes,
    ...(config.policy.engine !== 'allow-all' && config.policy.hideUnlisted ? { listed: visibility.canUse.bind(visibility) } : {}),
    sessions,
    catalog: () => catalog.current(),
    authenticator,
    policy,
    observer: telemetry,
    stateless: {
      keys: stateKeys,
      serverInfo,
      confirmations: new StatelessConfirmations({ seal: stateKeys.seal, sessions, timeoutMs: config.confirmation.timeoutMs, redact }),
      anonymousTasks: config.stateless.anonymousTasks,
    },
    virtualServers,
  });
  return {
    config,
    admission,
    broker,
    authenticator,
    catalog,
    sessions,
    streams,
    logger,
    telemetry,
    direct,
    pins,
    virtualServers,
    policyBundle: policy instanceof OpaPolicy ? policy.bundle : undefined,
    async start() {
      // Approvals first: the first catalog build is judged against them.
      await pins?.start();
      await Promise.all([catalog.start(), verifier?.start(), policy.start?.()]);
      // Only with a catalog can this instance take over following the backend sessions of instances that stopped.
      if (sessions.follows) takeOverFollowings({ leases: sessions.follows, streams: followed, sessions, credentials, backends: () => catalog.current().backends });
      if (policy instanceof OpaPolicy && config.catalog.consul) {
        stopSnippets = watchPolicySnippets(config.catalog.consul, logger.child({ component: 'consul-policies' }), (s) => void policy.syncServiceSnippets(s));
      }
      if (consul) stopVirtualServers = watchVirtualServers(consul, virtualServers, logger.child({ component: 'consul-virtual-servers' }));
    },
    health: () => healthReport(checks),
    async stop() {
      await stopSnippets?.();
      await stopVirtualServers?.();
      verifier?.stop();
      policy.stop?.();
      streams.closeAll();
      followed.closeAll();
      // Right after the backend streams closed, so another instance opens them again within a sweep.
      await sessions.follows?.release().catch((err: unknown) => logger.warn({ err: (err as Error).message }, 'cannot hand the followed backend sessions over; other instances take them over once the lease expires'));
      await events.close();
      await catalog.stop();
      await openapi.close();
      await pins?.stop();
      await sessions.close();
      if (!deps.dispatcher) await dispatcher.close();
      await telemetry.close();
    },
  };
}
