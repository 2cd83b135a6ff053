/**
 * The proxy's Prometheus families (names in src/metrics/names.ts), all on
 * prom-client's public types, no cast:
 *
 * - the attempt durations are a prom-client Histogram, observed per attempt
 *   through the service's child, bound once (`labels(service)`);
 * - the counts per instance (outcomes, in flight) and per service (retries,
 *   budget, tunnels) are plain numbers bumped on the request path and
 *   published on scrape through the public Counter / Gauge subclasses of
 *   src/metrics/on-scrape.ts (per instance, pruned as instances leave) or
 *   `collect()` (per service), as the balancers' families are.
 *
 * Why a Histogram observed per attempt rather than hand-made buckets read on
 * scrape: Registry.metrics() formats a Histogram through its undocumented
 * getForPromString(), not get(), so a subclass computing get() (as
 * on-scrape.ts does for gauges) would not reach the text output; and the
 * cost is small: bench/metrics (perProxyAttempt) gave 0.012 µs per attempt
 * for hand-made buckets against 0.39–0.40 µs for the Histogram child, 1.5 %
 * of a lean-engine request's CPU; `bash bench/proxy.sh --engine lean` at
 * c32, three runs a side (load average 11–18 on the 2 shared cores): CPU ms
 * per request 0.026 before and after (medians; runs 0.025–0.028 both).
 * README: Metrics has the rest.
 */
import { Histogram, type Registry } from 'prom-client';
import { type FamilySpec, PROXY_ATTEMPT_BUCKETS_SECONDS, PROXY_FAMILIES } from '../metrics/names.js';
import type { OnCollectError } from '../metrics/on-scrape.js';
import { Registrar } from '../metrics/registrar.js';

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

type DurationLabel = 'service';

/** Counts of one service. */
export class ServiceCells {
  retries = 0;
  budgetExhausted = 0;
  /** Upgraded connections open (after their 101). */
  tunnels = 0;
  /** This service's child of the attempt-duration histogram, seconds. */
  readonly duration: Histogram.Internal<DurationLabel>;
  readonly instances = new Map<string, InstanceCells>();

  constructor(
    readonly service: string,
    durations: Histogram<DurationLabel>,
  ) {
    this.duration = durations.labels(service);
    // The series exist from the service's first request on, as they did with hand-made buckets.
    durations.zero({ service });
  }

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
    this.owner.duration.observe(ms >= 0 ? ms / 1000 : 0); // NaN or negative would poison _sum for ever
  }
}

/** All proxy counts, and their registration in a Registry. */
export class ProxyMetrics {
  unrouted = 0;
  private readonly services = new Map<string, ServiceCells>();
  /** Observed on every attempt, registered or not (a registry may come later, or never). */
  private readonly durations: Histogram<DurationLabel>;

  /**
   * @param isMember whether an instance still belongs to its service; cells of
   *   departed instances with nothing in flight are dropped at scrape time, so
   *   churn (DNS discovery, registrations) does not grow the series for ever.
   */
  constructor(private readonly isMember: (service: string, id: string) => boolean = () => true) {
    const spec = PROXY_FAMILIES.proxyAttemptDuration;
    this.durations = new Histogram({
      name: spec.name,
      help: spec.help,
      labelNames: spec.labelNames,
      buckets: [...PROXY_ATTEMPT_BUCKETS_SECONDS],
      registers: [],
    });
  }

  /** Cells of one service, created on first use. */
  service(name: string): ServiceCells {
    let c = this.services.get(name);
    if (c === undefined) {
      c = new ServiceCells(name, this.durations);
      this.services.set(name, c);
    }
    return c;
  }

  /**
   * Register every family in `registry` (a private one: the caller never passes prom-client's global).
   * @param onError told about a family whose sampler threw (that family is left empty in the scrape).
   * @throws Error when the registry already holds one of the families.
   */
  register(registry: Registry, onError: OnCollectError = () => {}): void {
    const r = new Registrar(registry, onError);
    const all = (): ServiceCells[] => [...this.services.values()];
    const perService = (spec: FamilySpec, read: (s: ServiceCells) => number): void => {
      const fill = (set: (labels: { service: string }, value: number) => void): void => {
        for (const s of all()) set({ service: s.service }, read(s));
      };
      if (spec.type === 'gauge') r.gauge(spec, fill);
      else r.counter(spec, fill);
    };
    // Registration order is the order of the families in /metrics.
    r.computedCounter(PROXY_FAMILIES.proxyUpstreamRequests, (out) => {
      this.prune();
      for (const s of all()) {
        for (const c of s.instances.values()) {
          CODE_CLASSES.forEach((code, i) => {
            if (c.codes[i]! > 0) out.push({ value: c.codes[i]!, labels: { service: s.service, service_instance: c.id, code } });
          });
        }
      }
    });
    r.register(PROXY_FAMILIES.proxyAttemptDuration.name, this.durations);
    perService(PROXY_FAMILIES.proxyRetries, (s) => s.retries);
    perService(PROXY_FAMILIES.proxyBudgetExhausted, (s) => s.budgetExhausted);
    r.computedGauge(PROXY_FAMILIES.proxyInFlight, (out) => {
      for (const s of all()) {
        for (const c of s.instances.values()) out.push({ value: c.inFlight, labels: { service: s.service, service_instance: c.id } });
      }
    });
    perService(PROXY_FAMILIES.proxyTunnelsOpen, (s) => s.tunnels);
    r.counter(PROXY_FAMILIES.proxyUnrouted, (set) => set({}, this.unrouted));
  }

  /** Drop the cells of instances that left their service and have nothing in flight. */
  prune(): void {
    for (const s of this.services.values()) {
      for (const [id, c] of s.instances) if (c.inFlight === 0 && !this.isMember(s.service, id)) s.instances.delete(id);
    }
  }
}
