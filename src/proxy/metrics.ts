/**
 * The proxy's Prometheus families (names in src/metrics/names.ts), counted into
 * plain numeric cells on the request path and published on scrape, as
 * src/metrics/metrics.ts does: prom-client's Counter/Histogram children
 * rebuild a label key and allocate on every inc(), about 1 µs, which is a
 * real share of a proxied request's budget.
 */
import type { Metric, Registry } from 'prom-client';
import { ComputedFamily, type Sample } from '../metrics/computed.js';
import { PROXY_FAMILIES, PROXY_ATTEMPT_BUCKETS_SECONDS as ATTEMPT_DURATION_BUCKETS_SECONDS, type FamilySpec } from '../metrics/names.js';

/** Outcome classes of an attempt: index into InstanceCells.codes. */
export const CODE_CLASSES = ['2xx', '3xx', '4xx', '5xx', 'error'] as const;
/** Index of the `error` class (transport failure or timeout). */
export const CODE_ERROR = 4;

/** Code class index of an HTTP status (a 1xx ends an attempt only as an upgrade's 101; counted as 2xx). */
export function codeClass(status: number): number {
  if (status < 300) return 0;
  if (status < 400) return 1;
  if (status < 500) return 2;
  return 3;
}

const BOUNDS_MS = ATTEMPT_DURATION_BUCKETS_SECONDS.map((s) => s * 1000);

/** Counts of one service. */
export class ServiceCells {
  retries = 0;
  budgetExhausted = 0;
  /** Upgraded connections open (after their 101). */
  tunnels = 0;
  durationCount = 0;
  durationSumMs = 0;
  /** Non-cumulative; the last slot is above the largest bound. */
  readonly buckets = new Float64Array(BOUNDS_MS.length + 1);
  readonly instances = new Map<string, InstanceCells>();

  constructor(readonly service: string) {}

  /** Cells of one instance, created on first use. */
  instance(id: string): InstanceCells {
    let c = this.instances.get(id);
    if (c === undefined) {
      c = new InstanceCells(this, id);
      this.instances.set(id, c);
    }
    return c;
  }
}

/** Counts of one instance of a service. */
export class InstanceCells {
  inFlight = 0;
  readonly codes = new Float64Array(CODE_CLASSES.length);

  constructor(
    readonly owner: ServiceCells,
    readonly id: string,
  ) {}

  /** An attempt to this instance started. */
  start(): void {
    this.inFlight++;
  }

  /** The attempt started with start() ended after `ms` with this code class. */
  end(code: number, ms: number): void {
    this.inFlight--;
    this.codes[code]!++;
    const s = this.owner;
    const d = ms >= 0 ? ms : 0;
    s.durationCount++;
    s.durationSumMs += d;
    let i = 0;
    while (i < BOUNDS_MS.length && d > BOUNDS_MS[i]!) i++;
    s.buckets[i]!++;
  }
}

/** All proxy counts, and their registration in a Registry. */
export class ProxyMetrics {
  unrouted = 0;
  private readonly services = new Map<string, ServiceCells>();

  /**
   * @param isMember whether an instance still belongs to its service; cells of
   *   departed instances with nothing in flight are dropped at scrape time, so
   *   churn (DNS discovery, registrations) does not grow the series for ever.
   */
  constructor(private readonly isMember: (service: string, id: string) => boolean = () => true) {}

  /** Cells of one service, created on first use. */
  service(name: string): ServiceCells {
    let c = this.services.get(name);
    if (c === undefined) {
      c = new ServiceCells(name);
      this.services.set(name, c);
    }
    return c;
  }

  /** Register every family in `registry` (a private one: the caller never passes prom-client's global). */
  register(registry: Registry): void {
    const f = {
      upstreamRequests: PROXY_FAMILIES.proxyUpstreamRequests,
      attemptDuration: PROXY_FAMILIES.proxyAttemptDuration,
      retries: PROXY_FAMILIES.proxyRetries,
      budgetExhausted: PROXY_FAMILIES.proxyBudgetExhausted,
      inFlight: PROXY_FAMILIES.proxyInFlight,
      tunnelsOpen: PROXY_FAMILIES.proxyTunnelsOpen,
      unrouted: PROXY_FAMILIES.proxyUnrouted,
    };
    const all = (): ServiceCells[] => [...this.services.values()];
    const add = (spec: FamilySpec, sample: (out: Sample[]) => void): void => {
      registry.registerMetric(new ComputedFamily(spec, sample, () => {}) as unknown as Metric);
    };
    add(f.upstreamRequests, (out) => {
      this.prune();
      for (const s of all()) {
        for (const c of s.instances.values()) {
          CODE_CLASSES.forEach((code, i) => {
            if (c.codes[i]! > 0) out.push({ value: c.codes[i]!, labels: { service: s.service, service_instance: c.id, code } });
          });
        }
      }
    });
    add(f.attemptDuration, (out) => {
      for (const s of all()) {
        let cum = 0;
        for (let i = 0; i < s.buckets.length; i++) {
          cum += s.buckets[i]!;
          const le = i < ATTEMPT_DURATION_BUCKETS_SECONDS.length ? ATTEMPT_DURATION_BUCKETS_SECONDS[i]! : '+Inf';
          out.push({ value: cum, labels: { service: s.service, le }, metricName: `${f.attemptDuration.name}_bucket` });
        }
        out.push({ value: s.durationSumMs / 1000, labels: { service: s.service }, metricName: `${f.attemptDuration.name}_sum` });
        out.push({ value: s.durationCount, labels: { service: s.service }, metricName: `${f.attemptDuration.name}_count` });
      }
    });
    add(f.retries, (out) => {
      for (const s of all()) out.push({ value: s.retries, labels: { service: s.service } });
    });
    add(f.budgetExhausted, (out) => {
      for (const s of all()) out.push({ value: s.budgetExhausted, labels: { service: s.service } });
    });
    add(f.inFlight, (out) => {
      for (const s of all()) {
        for (const c of s.instances.values()) out.push({ value: c.inFlight, labels: { service: s.service, service_instance: c.id } });
      }
    });
    add(f.tunnelsOpen, (out) => {
      for (const s of all()) out.push({ value: s.tunnels, labels: { service: s.service } });
    });
    add(f.unrouted, (out) => {
      out.push({ value: this.unrouted, labels: {} });
    });
  }

  /** Drop the cells of instances that left their service and have nothing in flight. */
  prune(): void {
    for (const s of this.services.values()) {
      for (const [id, c] of s.instances) if (c.inFlight === 0 && !this.isMember(s.service, id)) s.instances.delete(id);
    }
  }
}
