import type { CheckSpec, CheckTiming } from '../core/check.js';
import type { CheckConfig, Config, Defaults } from '../config/schema.js';

/** An instance of a service with its resolved checks. */
export interface InstanceDef {
  id: string;
  service: string;
  address: string;
  tags: string[];
  weight: number;
  zone?: string;
  metadata: Record<string, string>;
  checks: CheckSpec[];
}

/** A service: its instances and the minimum HEALTHY count it needs. */
export interface ServiceDef {
  name: string;
  minHealthy: number;
  instances: InstanceDef[];
}

/**
 * Turn a validated config into services → instances → fully resolved checks:
 * service-level checks are copied to each instance, defaults fill every gap.
 */
export function servicesFromConfig(config: Config): ServiceDef[] {
  return Object.entries(config.services).map(([name, service]) => ({
    name,
    minHealthy: service.min_healthy,
    instances: service.instances.map((inst) => {
      const id = inst.id ?? inst.address;
      const checks = [...service.checks, ...inst.checks].map((check) => resolveCheck(check, config.defaults, name, id, inst.address));
      return {
        id,
        service: name,
        address: inst.address,
        tags: inst.tags,
        weight: inst.weight,
        zone: inst.zone,
        metadata: inst.metadata,
        checks,
      };
    }),
  }));
}

/** All checks of all services, flattened. */
export function checksFromConfig(config: Config): CheckSpec[] {
  return servicesFromConfig(config).flatMap((s) => s.instances.flatMap((i) => i.checks));
}

/** One check with defaults applied and its identity fixed: service/instance/name. */
export function resolveCheck(check: CheckConfig, defaults: Defaults, service: string, instance: string, address: string): CheckSpec {
  const name = check.name ?? check.kind;
  return {
    id: `${service}/${instance}/${name}`,
    name,
    kind: check.kind,
    service,
    instance,
    address,
    config: check,
    ...resolveTiming(check, defaults),
  };
}

function resolveTiming(check: CheckConfig, d: Defaults): CheckTiming {
  const intervalMs = check.interval ?? d.interval;
  return {
    intervalMs,
    timeoutMs: check.timeout ?? d.timeout,
    retries: check.retries ?? d.retries,
    retryBackoffMs: check.retry_backoff ?? d.retry_backoff,
    jitter: check.jitter ?? d.jitter,
    rise: check.rise ?? d.rise,
    fall: check.fall ?? d.fall,
    unhealthyIntervalMs: check.unhealthy_interval ?? d.unhealthy_interval ?? intervalMs,
    edgeIntervalMs: check.edge_interval ?? d.edge_interval ?? intervalMs,
    flap: d.flap,
  };
}
