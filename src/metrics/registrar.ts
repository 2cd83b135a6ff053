/**
 * Registers families into a private Registry and remembers their names, so
 * that a set of families can be taken out again as a whole.
 *
 * Two ways to build a family computed on scrape:
 * - `gauge` / `counter`: prom-client's public Gauge / Counter with a
 *   `collect()` that sets every value; for families whose size does not grow
 *   with the mesh (per service, the scheduler, the store);
 * - `computedGauge` / `computedCounter` / `computedSummary` (on-scrape.ts):
 *   for families with a series per check or instance, where bench/metrics
 *   measured the collect() + set() rebuild as too dear, and for summaries
 *   whose quantiles are computed elsewhere (a public Summary only observes).
 */
import { Counter, Gauge, type Metric, type Registry } from 'prom-client';
import type { FamilySpec } from './names.js';
import { ComputedCounter, ComputedGauge, ComputedSummary, type NamedSample, type OnCollectError, type Sample } from './on-scrape.js';

/** Sets one value of a family being collected. */
export type SetValue = (labels: Sample['labels'], value: number) => void;

/** The families one part of healthmesh added to a registry. */
export class Registrar {
  /** Names registered so far, in order. */
  readonly added: string[] = [];

  constructor(
    readonly registry: Registry,
    readonly onError: OnCollectError,
  ) {}

  /**
   * A public Gauge whose `collect()` calls `fill` to set every value anew;
   * a value not set is absent (a label-less gauge too). A throwing `fill`
   * leaves the family empty and is reported to onError.
   * @throws Error when the registry already holds a family of that name.
   */
  gauge(spec: FamilySpec, fill: (set: SetValue) => void, labelNames: readonly string[] = spec.labelNames): void {
    const onError = this.onError;
    const gauge = new Gauge({
      name: spec.name,
      help: spec.help,
      labelNames,
      registers: [],
      collect() {
        refill(
          this,
          (labels, value) => this.set(labels, value),
          fill,
          labelNames.length === 0,
          (err) => onError(err, spec.name),
        );
      },
    });
    this.register(spec.name, gauge);
  }

  /** A public Counter whose `collect()` sets every value from counts kept elsewhere; as {@link gauge}. */
  counter(spec: FamilySpec, fill: (set: SetValue) => void, labelNames: readonly string[] = spec.labelNames): void {
    const onError = this.onError;
    const counter = new Counter({
      name: spec.name,
      help: spec.help,
      labelNames,
      registers: [],
      collect() {
        refill(
          this,
          (labels, value) => this.inc(labels, value),
          fill,
          labelNames.length === 0,
          (err) => onError(err, spec.name),
        );
      },
    });
    this.register(spec.name, counter);
  }

  /** A gauge with a series per check or instance, computed on scrape (on-scrape.ts says why). */
  computedGauge(spec: FamilySpec, sample: (out: Sample[]) => void, labelNames: readonly string[] = spec.labelNames): void {
    this.register(spec.name, new ComputedGauge({ name: spec.name, help: spec.help, labelNames }, sample, this.onError));
  }

  /** A counter with a series per instance, computed on scrape from counts kept elsewhere. */
  computedCounter(spec: FamilySpec, sample: (out: Sample[]) => void, labelNames: readonly string[] = spec.labelNames): void {
    this.register(spec.name, new ComputedCounter({ name: spec.name, help: spec.help, labelNames }, sample, this.onError));
  }

  /** A summary whose quantiles, _sum and _count are computed elsewhere. */
  computedSummary(spec: FamilySpec, sample: (out: NamedSample[]) => void): void {
    this.register(spec.name, new ComputedSummary({ name: spec.name, help: spec.help, labelNames: spec.labelNames }, sample, this.onError));
  }

  /**
   * Any prom-client metric created with `registers: []`.
   * @throws Error when the registry already holds a family of that name.
   */
  register<M extends Metric>(name: string, metric: M): M {
    this.registry.registerMetric(metric);
    this.added.push(name);
    return metric;
  }

  /** Take every family recorded here out of the registry. */
  unregister(): void {
    for (const name of this.added) this.registry.removeSingleMetric(name);
    this.added.length = 0;
  }
}

/** The scrape renderExposition is rendering: values read once per scrape last until it ends. */
let currentScrape: { forget: Array<() => void> } | null = null;

/**
 * Render one scrape. It yields to the event loop between families (a scrape
 * of 10,000 checks held the loop 0.1 s, of 100,000 checks 1-2.5 s), so the
 * values read once per scrape are kept until it ends, not one turn.
 */
export async function asOneScrape<T>(render: () => Promise<T>): Promise<T> {
  const scrape = { forget: [] as Array<() => void> };
  currentScrape = scrape;
  try {
    return await render();
  } finally {
    if (currentScrape === scrape) currentScrape = null;
    for (const forget of scrape.forget) forget();
  }
}

/**
 * Call `forget` when the scrape in progress ends; outside asOneScrape (a
 * scrape collected in one synchronous run, the JSON path), at the next microtask.
 */
export function untilScrapeEnds(forget: () => void): void {
  if (currentScrape) currentScrape.forget.push(forget);
  else queueMicrotask(forget);
}

/** A value read at most once per scrape (see untilScrapeEnds). */
export function perScrape<T>(read: () => T): () => T {
  let cached: { value: T } | null = null;
  return () => {
    if (cached === null) {
      const entry = { value: read() };
      cached = entry;
      untilScrapeEnds(() => {
        if (cached === entry) cached = null;
      });
    }
    return cached.value;
  };
}

/**
 * Set every value of a collected family anew from `fill`: a value not set is
 * absent; a throwing `fill` leaves the family empty and is reported.
 */
function refill(
  metric: Gauge<string> | Counter<string>,
  write: SetValue,
  fill: (set: SetValue) => void,
  labelless: boolean,
  report: (err: unknown) => void,
): void {
  metric.reset();
  let set = 0;
  try {
    fill((labels, value) => {
      set++;
      write(labels, value);
    });
  } catch (err) {
    report(err);
    metric.reset();
    set = 0;
  }
  if (set === 0 && labelless) metric.remove(); // reset() leaves a label-less family at 0
}
