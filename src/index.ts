/**
 * healthmesh as a library: embed the engine in a Node service, add checks
 * written as functions, serve /health, /livez and /readyz, and balance your
 * own outgoing requests over the healthy instances of a service.
 */
export { createHealthmesh, Healthmesh, healthHandler, healthRoutes } from './library.js';
export type { HealthmeshOptions, LocalCheckOptions, HealthBody, HealthRouteOptions } from './library.js';
export { startDaemon } from './daemon.js';
export type { Daemon, DaemonOptions } from './daemon.js';
export { Engine } from './engine.js';
export { HealthStatus } from './core/status.js';
export type { CheckResult, Reason, ProbeOutcome } from './core/result.js';
export type { CheckSpec, CheckRunner, CheckFactory, CheckDeps, PushListener, RunContext } from './core/check.js';
export { FakeClock, realClock } from './core/clock.js';
export type { Clock } from './core/clock.js';
export { parseConfig, loadConfigFile } from './config/load.js';
export { configSchema, configJsonSchema } from './config/schema.js';
export type { Config, ConfigInput } from './config/schema.js';
export { ConfigError, HealthmeshError, isConfigError } from './core/errors.js';
export { inProcessCheck } from './checks/custom.js';
export type { CustomCheckReturn, CustomCheckContext } from './checks/custom.js';
export { BalancerSet, balancerConfigs } from './balancer/balancer-set.js';
export { ServiceBalancer } from './balancer/service-balancer.js';
export type { BalancerEvent, BalancerSnapshot, MemberSnapshot, UpstreamMember } from './balancer/service-balancer.js';
export { LocalFeed } from './balancer/local-feed.js';
export { FollowFeed } from './balancer/follow-feed.js';
export { pickerKinds } from './balancer/pickers/index.js';
export type { PickerKind } from './balancer/pickers/index.js';
export { CircuitBreaker } from './balancer/breaker.js';
export { OutlierDetection } from './balancer/outlier.js';
export { balancerSchema, proxySchema } from './config/balancer.js';
export type { BalancerConfig, ProxyConfig } from './config/balancer.js';
export { startProxy } from './proxy/proxy.js';
export type { AttemptOutcome, PickedUpstream, ProxyUpstreams, UpstreamBalancer } from './balancer/types.js';
