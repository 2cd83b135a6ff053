import type { CheckSpec } from '../core/check.js';
import type { EventBus } from '../core/events.js';
import type { HealthEvents } from '../core/health-events.js';
import type { HealthStatus } from '../core/status.js';
import { instanceStatus, meshStatus, serviceStatus } from './aggregate.js';

/** A status change above check level. */
export interface RollupChange {
  level: 'instance' | 'service' | 'mesh';
  /** service/instance for instances, the service name, or "mesh". */
  id: string;
  from: HealthStatus;
  to: HealthStatus;
  /** The check transition that caused it. */
  cause: string;
  at: number;
}

interface InstanceNode {
  checks: Map<string, HealthStatus>;
  status: HealthStatus;
}

interface ServiceNode {
  minHealthy: number;
  instances: Map<string, InstanceNode>;
  status: HealthStatus;
}

/**
 * Check → instance → service → mesh statuses, updated on transitions only,
 * so reading any level costs a map lookup. Work per transition is bounded by
 * the checks of one instance plus the instances of one service.
 */
export class StatusRollup {
  private readonly services = new Map<string, ServiceNode>();
  private mesh: HealthStatus = 'UNKNOWN';

  constructor(
    private readonly minHealthy: (service: string) => number,
    private readonly onChange: (change: RollupChange) => void = () => {},
  ) {}

  /** Follow an engine's bus: checks added and removed, transitions. */
  attach(bus: EventBus<HealthEvents>): () => void {
    const offs = [
      bus.on('check-added', ({ spec }) => this.track(spec, 'UNKNOWN', 0)),
      bus.on('check-removed', ({ spec }) => this.untrack(spec)),
      bus.on('transition', ({ spec, to, at }) => this.track(spec, to, at)),
    ];
    return () => offs.forEach((off) => off());
  }

  /** Record a check's status and propagate any change upward. */
  track(spec: CheckSpec, status: HealthStatus, at: number): void {
    let service = this.services.get(spec.service);
    if (!service) {
      service = { minHealthy: this.minHealthy(spec.service), instances: new Map(), status: 'UNKNOWN' };
      this.services.set(spec.service, service);
    }
    let instance = service.instances.get(spec.instance);
    if (!instance) {
      instance = { checks: new Map(), status: 'UNKNOWN' };
      service.instances.set(spec.instance, instance);
    }
    instance.checks.set(spec.id, status);
    this.recompute(spec.service, service, spec.instance, instance, spec.id, at);
  }

  untrack(spec: CheckSpec): void {
    const service = this.services.get(spec.service);
    const instance = service?.instances.get(spec.instance);
    if (!service || !instance) return;
    instance.checks.delete(spec.id);
    if (instance.checks.size === 0) service.instances.delete(spec.instance);
    this.recompute(spec.service, service, spec.instance, instance, spec.id, 0);
    if (service.instances.size === 0) {
      this.services.delete(spec.service);
      this.recomputeMesh(spec.id, 0);
    }
  }

  instance(service: string, instance: string): HealthStatus {
    return this.services.get(service)?.instances.get(instance)?.status ?? 'UNKNOWN';
  }

  service(name: string): HealthStatus {
    return this.services.get(name)?.status ?? 'UNKNOWN';
  }

  meshStatus(): HealthStatus {
    return this.mesh;
  }

  private recompute(name: string, service: ServiceNode, instanceId: string, instance: InstanceNode, cause: string, at: number): void {
    const instStatus = instanceStatus([...instance.checks.values()]);
    if (instStatus !== instance.status) {
      this.onChange({ level: 'instance', id: `${name}/${instanceId}`, from: instance.status, to: instStatus, cause, at });
      instance.status = instStatus;
    }
    const svcStatus = serviceStatus([...service.instances.values()].map((i) => i.status), service.minHealthy);
    if (svcStatus !== service.status) {
      this.onChange({ level: 'service', id: name, from: service.status, to: svcStatus, cause, at });
      service.status = svcStatus;
      this.recomputeMesh(cause, at);
    }
  }

  private recomputeMesh(cause: string, at: number): void {
    const status = meshStatus([...this.services.values()].map((s) => s.status));
    if (status !== this.mesh) {
      this.onChange({ level: 'mesh', id: 'mesh', from: this.mesh, to: status, cause, at });
      this.mesh = status;
    }
  }
}
