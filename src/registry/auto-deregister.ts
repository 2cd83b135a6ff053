import type { Clock, TimerHandle } from '../core/clock.js';
import type { Logger } from '../core/logger.js';
import type { HealthStatus } from '../core/status.js';
import type { Registry } from './registry.js';

/**
 * Deregisters run-time instances (API, discovery) that stay UNHEALTHY for
 * their service's `deregister_after`, as Consul's
 * DeregisterCriticalServiceAfter. Config instances are never removed.
 */
export class AutoDeregister {
  private readonly timers = new Map<string, TimerHandle>();

  constructor(
    private readonly registry: Registry,
    private readonly clock: Clock,
    private readonly afterMs: (service: string) => number | undefined,
    private readonly logger?: Logger,
  ) {}

  /** Feed instance status changes (the rollup's instance-level changes). */
  onInstanceStatus(key: string, status: HealthStatus): void {
    const existing = this.timers.get(key);
    if (status !== 'UNHEALTHY') {
      if (existing !== undefined) this.clock.clearTimeout(existing);
      this.timers.delete(key);
      return;
    }
    if (existing !== undefined) return;
    const rec = this.registry.instance(key);
    if (!rec || rec.source === 'config') return;
    const after = this.afterMs(rec.service);
    if (after === undefined) return;
    this.timers.set(
      key,
      this.clock.setTimeout(() => {
        this.timers.delete(key);
        this.logger?.warn({ instance: key, afterMs: after }, `deregistering ${key}: UNHEALTHY for ${after} ms`);
        this.registry.deregister(key).catch((err: unknown) => this.logger?.error({ err: (err as Error).message }, `deregistering ${key} failed`));
      }, after),
    );
  }

  stop(): void {
    for (const t of this.timers.values()) this.clock.clearTimeout(t);
    this.timers.clear();
  }
}
