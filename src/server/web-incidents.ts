import type { HealthStatus } from '../core/status.js';

/** A period during which a service was UNHEALTHY. */
export interface Incident {
  service: string;
  /** When the service became UNHEALTHY, epoch ms. */
  start: number;
  /** When it was next HEALTHY or DEGRADED, epoch ms; null while it lasts. */
  end: number | null;
  /** What the rollup gave as the cause when it began (a check id, or "dependency … is UNHEALTHY"). */
  cause: string;
}

/** Incidents kept per service (older ones are dropped first). */
const KEPT_PER_SERVICE = 50;

/**
 * Service-level incidents as the daemon saw them since it started, from the
 * service statuses after each transition: the status page's incident
 * history when the daemon runs without a store that keeps service
 * transitions (see web-stored-incidents.ts); it is lost on a restart. An incident begins when a service becomes UNHEALTHY and ends when
 * it is next HEALTHY or DEGRADED (UNKNOWN in between does not end it), the
 * rule the store's uptime uses.
 */
export class ServiceIncidents {
  private readonly last = new Map<string, HealthStatus>();
  private readonly byService = new Map<string, Incident[]>();

  /**
   * Record a service's status; returns true when it differs from the last one
   * recorded (the caller then tells SSE clients about the service).
   */
  record(service: string, status: HealthStatus, cause: string, at: number): boolean {
    const before = this.last.get(service);
    if (before === status) return false;
    this.last.set(service, status);
    const list = this.byService.get(service) ?? [];
    const open = list.length > 0 && list[list.length - 1]!.end === null ? list[list.length - 1]! : null;
    if (status === 'UNHEALTHY' && !open) {
      list.push({ service, start: at, end: null, cause });
      if (list.length > KEPT_PER_SERVICE) list.shift();
      this.byService.set(service, list);
    } else if (open && (status === 'HEALTHY' || status === 'DEGRADED')) {
      open.end = at;
    }
    return before !== undefined;
  }

  /** The last status recorded for a service, if any. */
  status(service: string): HealthStatus | undefined {
    return this.last.get(service);
  }

  /** Incidents of these services, newest first, at most `limit`. */
  of(services: readonly string[], limit: number, _now?: number): Incident[] {
    const all: Incident[] = [];
    for (const s of services) all.push(...(this.byService.get(s) ?? []));
    return all
      .sort((a, b) => b.start - a.start)
      .slice(0, limit)
      .map((i) => ({ ...i }));
  }

  /** Forget a service that is gone. */
  forget(service: string): void {
    this.last.delete(service);
    this.byService.delete(service);
  }
}
