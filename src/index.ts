/**
 * The public surface of the package. Any export added here becomes public API.
 */
export { Admission, type AdmissionOptions } from './admission/admit.js';
export type { Decision, GatewayRequest } from './admission/decision.js';
export type { AdmissionObserver, Denial } from './admission/observer.js';
export { Broker, type BrokerOptions } from './broker/broker.js';
export type { Reply } from './broker/reply.js';
export { StreamHub, type StreamSink } from './broker/streams.js';
export { Catalog, type CatalogOptions, type ToolDiscovery } from './catalog/catalog.js';
export type { BackendDescriptor, CatalogTool, ToolDefinition } from './catalog/model.js';
export { CatalogSnapshot } from './catalog/snapshot.js';
export { CombinedSource, type NamedSource } from './catalog/combined.js';
export { ConsulSource } from './catalog/consul/source.js';
export { openCatalogSource } from './catalog/open.js';
export { StaticSource, type BackendsListener, type CatalogSource, type SourceStatus } from './catalog/source.js';
export { ConfigError, loadConfigFile, parseConfig } from './config/load.js';
export type { BackendConfig, ConsulSourceConfig, GatewayConfig } from './config/schema.js';
export { ERRORS, GatewayError, type ErrorCode, type ErrorSpec } from './errors.js';
export { LATEST_PROTOCOL_VERSION, SUPPORTED_PROTOCOL_VERSIONS } from './mcp/protocol.js';
export { HazelcastSessionStore, type HazelcastStoreOptions } from './session/hazelcast-store.js';
export { MemorySessionStore } from './session/memory-store.js';
export { openSessionStore } from './session/open.js';
export { ANONYMOUS, type BackendSession, type Principal, type SessionRecord, type SessionStore } from './session/store.js';
export { createGateway, type GatewayCore, type GatewayDeps } from './standalone/gateway.js';
export { runStandalone, type RunningGateway } from './standalone/run.js';
export { StandaloneServer } from './standalone/server.js';
export { AnonymousAuthenticator, BearerAuthenticator, type Authenticator, type AuthOutcome } from './auth/authenticator.js';
export { ANONYMOUS_CALLER, type Caller } from './auth/caller.js';
export { OidcVerifier } from './auth/oidc.js';
export { AllowAllPolicy, type PolicyDecision, type PolicyEngine } from './policy/engine.js';
export type { PolicyInput } from './policy/input.js';
export { OpaPolicy } from './policy/opa.js';
export { RulesPolicy } from './policy/rules.js';
export { sessionRef, type AuditEvent, type DenialEvent, type ToolCallEvent } from './telemetry/audit.js';
export { GatewayMetrics, type CallOutcome, type MetricsSources } from './telemetry/metrics.js';
export { Telemetry } from './telemetry/telemetry.js';
