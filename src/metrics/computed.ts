/**
 * A collector that implements prom-client's undocumented `getForPromString`
 * and `sharedLabels` (cached label strings), registered through a cast.
 *
 * Only src/proxy/metrics.ts still uses it: the engine's and the balancers'
 * families moved to prom-client's public types (result-counters.ts,
 * on-scrape.ts, registrar.ts). The proxy's families publish counts kept in
 * plain cells on the request path, including a histogram, which no public
 * prom-client type can take; moving them needs the proxy's own measurement
 * (bench/proxy) of prom-client children per attempt. bench/metrics measures
 * this collector as the `sharedLabels` variant.
 */
import type { FamilySpec, FamilyType } from './names.js';

/** Label names → values of one sample. */
export type Labels = Readonly<Record<string, string | number>>;

/** One sample as prom-client's Registry formats it. */
export interface Sample {
  value: number;
  /** Labels of this sample only (`status`, `le`, `reason`). */
  labels: Labels;
  /**
   * Labels shared by many samples, kept as one long-lived object per check or
   * group: the Registry formats such an object once and caches the string.
   */
  sharedLabels?: Labels;
  /** For histogram and summary parts: name_bucket, name_sum, name_count. */
  metricName?: string;
}

/** The empty label set, shared. */
export const NO_LABELS: Labels = Object.freeze({});

/**
 * A metric family whose samples are computed when the Registry asks. It
 * implements the contract prom-client's Registry relies on for every metric
 * (`name`, `help`, `type`, `aggregator`, `get()`, `reset()` and the optional
 * `getForPromString()` that Histogram also uses), so it sits in the registry
 * beside prom-client's own metrics.
 */
export class ComputedFamily {
  /** Writable: an OpenMetrics registry strips `_total` from counter names at render time. */
  name: string;
  readonly help: string;
  readonly type: FamilyType;
  readonly labelNames: readonly string[];
  readonly aggregator = 'sum';

  constructor(
    spec: FamilySpec,
    private readonly sample: (out: Sample[]) => void,
    private readonly onError: (err: unknown, family: string) => void,
  ) {
    this.name = spec.name;
    this.help = spec.help;
    this.type = spec.type;
    this.labelNames = spec.labelNames;
  }

  /** Samples with shared labels kept apart (the fast path of Registry.metrics()). */
  async getForPromString(): Promise<{ name: string; help: string; type: FamilyType; values: Sample[]; aggregator: string }> {
    const values: Sample[] = [];
    try {
      this.sample(values);
    } catch (err) {
      // One broken source must not fail the whole scrape; the family is left empty.
      values.length = 0;
      this.onError(err, this.name);
    }
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Samples with every label on the sample, as getMetricsAsJSON() expects. */
  async get(): Promise<{ name: string; help: string; type: FamilyType; values: Sample[]; aggregator: string }> {
    const data = await this.getForPromString();
    data.values = data.values.map(({ value, labels, sharedLabels, metricName }) => ({
      value,
      labels: sharedLabels ? { ...sharedLabels, ...labels } : { ...labels },
      ...(metricName === undefined ? {} : { metricName }),
    }));
    return data;
  }

  /** Values come from their sources; Registry.resetMetrics() has nothing to clear. */
  reset(): void {}
}
