import type { CheckSpec } from '../core/check.js';
import type { EventBus } from '../core/events.js';
import type { HealthEvents, ResultEvent } from './health-events.js';
import type { HealthStatus } from '../core/status.js';
import { instanceStatus, meshStatus, serviceStatus, type InstancePolicy, type MeshMember } from './aggregate.js';

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

interface CheckNode {
  status: HealthStatus;
  /** EWMA of result success (1 HEALTHY, 0.5 DEGRADED, 0 otherwise). */
  success: number;
  /** EWMA of result duration, ms. */
  latencyMs: number;
  timeoutMs: number;
  score: number;
}

interface InstanceNode {
  checks: Map<string, CheckNode>;
  status: HealthStatus;
  score: number;
}

interface ServiceNode {
  minHealthy: number;
  instances: Map<string, InstanceNode>;
  status: HealthStatus;
  /** Sum of instance scores, kept incrementally so the service score is O(1). */
  scoreSum: number;
  /** Instance counts by status, kept incrementally for list endpoints. */
  counts: Record<HealthStatus, number>;
  /** Status from the instances alone, before dependencies cap it. */
  ownStatus: HealthStatus;
  /** Why dependencies capped the status, or null. */
  cause: string | null;
}

/** How a service is rolled up; looked up when its first check appears. */
export interface ServicePolicy {
  minHealthy: number;
  /** How each instance combines its checks. */
  policy?: (instance: string) => InstancePolicy;
  /** Services this one needs: an UNHEALTHY dependency caps it at DEGRADED. */
  dependsOn?: readonly string[];
  /** Whether this service UNHEALTHY makes the mesh UNHEALTHY (default true); see meshStatus. */
  critical?: boolean;
}

/**
 * A result once the rollup has folded it in: the scores (0–100) it left on
 * its check and its instance, the status change it causes included (the
 * engine's `transition` event for it comes after its `result`). The history
 * writer stores these with the result.
 */
export interface ScoredResult {
  event: ResultEvent;
  checkScore: number;
  instanceScore: number;
}

/** Weight of the newest result in the success and latency averages. */
const EWMA_ALPHA = 0.2;
const STATUS_BASE: Record<HealthStatus, number> = { HEALTHY: 100, DEGRADED: 70, UNKNOWN: 50, UNHEALTHY: 0 };

/**
 * Health score 0–100 of a check: the base of its status (HEALTHY 100,
 * DEGRADED 70, UNKNOWN 50, UNHEALTHY 0), scaled by recent success
 * (0.5 + 0.5 × EWMA of success) and by latency (1 while the EWMA latency is
 * under a quarter of the timeout, falling linearly to 0.5 at the timeout).
 * An instance scores its worst check; a service the mean of its instances.
 */
export function checkScore(status: HealthStatus, success: number, latencyMs: number, timeoutMs: number): number {
  const quarter = timeoutMs / 4;
  const slowness = Math.min(1, Math.max(0, (latencyMs - quarter) / (timeoutMs - quarter || 1)));
  return Math.round(STATUS_BASE[status] * (0.5 + 0.5 * success) * (1 - 0.5 * slowness));
}

/**
 * Check → instance → service → mesh statuses, updated on transitions only,
 * so reading any level costs a map lookup. Work per transition is bounded by
 * the checks of one instance plus the instances of one service.
 */
export class StatusRollup {
  private readonly services = new Map<string, ServiceNode>();
  private mesh: HealthStatus = 'UNKNOWN';

  /** Reverse dependencies: service → services that depend on it. */
  private dependents = new Map<string, Set<string>>();
  private readonly changeListeners = new Set<(change: RollupChange) => void>();
  private readonly scoredListeners = new Set<(scored: ScoredResult) => void>();

  constructor(
    private readonly settingsOf: (service: string) => number | ServicePolicy,
    private readonly onChangeCallback: (change: RollupChange) => void = () => {},
  ) {}

  private settings(service: string): ServicePolicy {
    const s = this.settingsOf(service);
    return typeof s === 'number' ? { minHealthy: s } : s;
  }

  /** Follow an engine's bus: checks added and removed, transitions. */
  attach(bus: EventBus<HealthEvents>): () => void {
    const offs = [
      bus.on('check-added', ({ spec, at }) => this.track(spec, 'UNKNOWN', at ?? 0)),
      bus.on('check-removed', ({ spec, at }) => this.untrack(spec, at ?? 0)),
      bus.on('transition', ({ spec, to, at }) => this.track(spec, to, at)),
      bus.on('result', (event) => {
        // The check's status after this result (state.status) scores it now, before its transition event.
        this.observe(event.spec, event.result.status, event.result.durationMs, event.state.status);
        if (this.scoredListeners.size === 0) return;
        const scored = { event, checkScore: this.checkScore(event.spec), instanceScore: this.instanceScore(event.spec.service, event.spec.instance) };
        for (const l of this.scoredListeners) l(scored);
      }),
    ];
    return () => {
      for (const off of offs) off();
    };
  }

  /**
   * Also hear of every instance, service and mesh change (besides the
   * constructor's callback); returns the unsubscribe function.
   */
  onChange(listener: (change: RollupChange) => void): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** Hear of every result of the attached bus once folded in, with the scores it left; returns the unsubscribe function. */
  onScored(listener: (scored: ScoredResult) => void): () => void {
    this.scoredListeners.add(listener);
    return () => this.scoredListeners.delete(listener);
  }

  private emit(change: RollupChange): void {
    this.onChangeCallback(change);
    for (const l of this.changeListeners) l(change);
  }

  /** Score 0–100 of a check; 0 when unknown. */
  checkScore(spec: Pick<CheckSpec, 'id' | 'service' | 'instance'>): number {
    return this.services.get(spec.service)?.instances.get(spec.instance)?.checks.get(spec.id)?.score ?? 0;
  }

  /** Record a check's status and propagate any change upward. */
  track(spec: CheckSpec, status: HealthStatus, at: number): void {
    let service = this.services.get(spec.service);
    if (!service) {
      const settings = this.settings(spec.service);
      service = {
        minHealthy: settings.minHealthy,
        instances: new Map(),
        status: 'UNKNOWN',
        scoreSum: 0,
        counts: { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 },
        ownStatus: 'UNKNOWN',
        cause: null,
      };
      this.services.set(spec.service, service);
      for (const dep of settings.dependsOn ?? []) {
        let set = this.dependents.get(dep);
        if (!set) {
          set = new Set();
          this.dependents.set(dep, set);
        }
        set.add(spec.service);
      }
    }
    let instance = service.instances.get(spec.instance);
    if (!instance) {
      instance = { checks: new Map(), status: 'UNKNOWN', score: 0 };
      service.instances.set(spec.instance, instance);
      service.counts.UNKNOWN++;
    }
    let check = instance.checks.get(spec.id);
    if (!check) {
      check = { status, success: 1, latencyMs: 0, timeoutMs: spec.timeoutMs, score: 0 };
      instance.checks.set(spec.id, check);
    }
    check.status = status;
    check.score = checkScore(status, check.success, check.latencyMs, check.timeoutMs);
    this.rescore(service, instance);
    this.recompute(spec.service, service, spec.instance, instance, spec.id, at);
  }

  /**
   * Fold one raw result into the check's success and latency averages (O(checks of the instance)).
   * @param status the result's own status.
   * @param checkStatus the check's thresholded status after the result, when known: its score
   *   counts from now; instance and higher statuses change on the transition event that follows.
   */
  observe(spec: CheckSpec, status: HealthStatus, durationMs: number, checkStatus?: HealthStatus): void {
    const service = this.services.get(spec.service);
    const instance = service?.instances.get(spec.instance);
    const check = instance?.checks.get(spec.id);
    if (!service || !instance || !check) return;
    if (checkStatus !== undefined) check.status = checkStatus;
    const success = status === 'HEALTHY' ? 1 : status === 'DEGRADED' ? 0.5 : 0;
    check.success += EWMA_ALPHA * (success - check.success);
    check.latencyMs = check.latencyMs === 0 ? durationMs : check.latencyMs + EWMA_ALPHA * (durationMs - check.latencyMs);
    check.score = checkScore(check.status, check.success, check.latencyMs, check.timeoutMs);
    this.rescore(service, instance);
  }

  private rescore(service: ServiceNode, instance: InstanceNode): void {
    let min = 100;
    for (const c of instance.checks.values()) if (c.score < min) min = c.score;
    if (instance.checks.size === 0) min = 0;
    service.scoreSum += min - instance.score;
    instance.score = min;
  }

  /** Forget a removed check; changes it causes happen at `at` (epoch ms). */
  untrack(spec: CheckSpec, at = 0): void {
    const service = this.services.get(spec.service);
    const instance = service?.instances.get(spec.instance);
    if (!service || !instance) return;
    instance.checks.delete(spec.id);
    this.rescore(service, instance);
    if (instance.checks.size === 0) {
      service.instances.delete(spec.instance);
      service.scoreSum -= instance.score;
      service.counts[instance.status]--;
    }
    this.recompute(spec.service, service, spec.instance, instance, spec.id, at);
    if (service.instances.size === 0) {
      this.services.delete(spec.service);
      this.recomputeMesh(spec.id, at);
    }
  }

  instance(service: string, instance: string): HealthStatus {
    return this.services.get(service)?.instances.get(instance)?.status ?? 'UNKNOWN';
  }

  service(name: string): HealthStatus {
    return this.services.get(name)?.status ?? 'UNKNOWN';
  }

  /** Score 0–100 of an instance (its worst check); 0 when unknown. */
  instanceScore(service: string, instance: string): number {
    return this.services.get(service)?.instances.get(instance)?.score ?? 0;
  }

  /** Mean instance score of a service, O(1). */
  serviceScore(name: string): number {
    const svc = this.services.get(name);
    if (!svc || svc.instances.size === 0) return 0;
    return Math.round(svc.scoreSum / svc.instances.size);
  }

  /** Instance counts by status of a service, O(1). */
  serviceCounts(name: string): Record<HealthStatus, number> {
    return { ...(this.services.get(name)?.counts ?? { HEALTHY: 0, DEGRADED: 0, UNHEALTHY: 0, UNKNOWN: 0 }) };
  }

  /** Instances of a service with their status. */
  instanceStatuses(service: string): Array<[instance: string, status: HealthStatus]> {
    return [...(this.services.get(service)?.instances ?? [])].map(([name, node]) => [name, node.status]);
  }

  /** Names of every service with at least one check. */
  serviceNames(): string[] {
    return [...this.services.keys()];
  }

  meshStatus(): HealthStatus {
    return this.mesh;
  }

  private recompute(name: string, service: ServiceNode, instanceId: string, instance: InstanceNode, cause: string, at: number): void {
    const settings = this.settings(name); // read each time: a reload may change them
    service.minHealthy = settings.minHealthy;
    const policy = settings.policy?.(instanceId) ?? 'worst';
    const instStatus = instanceStatus(
      [...instance.checks.values()].map((c) => c.status),
      policy,
    );
    if (instStatus !== instance.status) {
      this.emit({ level: 'instance', id: `${name}/${instanceId}`, from: instance.status, to: instStatus, cause, at });
      if (service.instances.has(instanceId)) {
        service.counts[instance.status]--;
        service.counts[instStatus]++;
      }
      instance.status = instStatus;
    }
    service.ownStatus = serviceStatus(
      [...service.instances.values()].map((i) => i.status),
      service.minHealthy,
    );
    this.applyDependencies(name, service, cause, at, new Set());
  }

  /** Cap a service at DEGRADED while a dependency is UNHEALTHY; propagate to its dependents. */
  private applyDependencies(name: string, service: ServiceNode, cause: string, at: number, seen: Set<string>): void {
    if (seen.has(name)) return; // dependency cycles are rejected by the config; stay safe anyway
    seen.add(name);
    let status = service.ownStatus;
    let why: string | null = null;
    for (const dep of this.settings(name).dependsOn ?? []) {
      if (this.service(dep) === 'UNHEALTHY' && status === 'HEALTHY') {
        status = 'DEGRADED';
        why = `dependency ${dep} is UNHEALTHY`;
        break;
      }
    }
    service.cause = why;
    if (status === service.status) return;
    this.emit({ level: 'service', id: name, from: service.status, to: status, cause: why ?? cause, at });
    service.status = status;
    this.recomputeMesh(cause, at);
    for (const dependent of this.dependents.get(name) ?? []) {
      const node = this.services.get(dependent);
      if (node) this.applyDependencies(dependent, node, `${name} is ${status}`, at, seen);
    }
  }

  /** Why a service's status is capped by a dependency, or null. */
  serviceCause(name: string): string | null {
    return this.services.get(name)?.cause ?? null;
  }

  private recomputeMesh(cause: string, at: number): void {
    const members: MeshMember[] = [];
    for (const [name, s] of this.services) members.push({ status: s.status, critical: this.settings(name).critical ?? true });
    const status = meshStatus(members);
    if (status !== this.mesh) {
      this.emit({ level: 'mesh', id: 'mesh', from: this.mesh, to: status, cause, at });
      this.mesh = status;
    }
  }
}
